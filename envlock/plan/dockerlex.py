"""A Dockerfile's text as instructions, by BuildKit's parser rules.

The rules are those of moby/buildkit frontend/dockerfile/parser (parser.go, directives.go)
and its shell lexer (frontend/dockerfile/shell/lex.go):
- parser directives (`# escape=`, `# syntax=`) only at the very top, before any comment,
  blank line or instruction; `escape` is a backslash or a backtick;
- a line whose first non-blank character is `#` is a comment, also inside a continued
  instruction, where blank lines are skipped too;
- the escape character at the end of a line (blanks after it allowed) continues the
  instruction on the next line; the two lines are joined without the escape;
- RUN, COPY and ADD take heredocs (`<<EOF`, `<<-EOF` strips leading tabs, a quoted word
  disables expansion): their bodies follow the instruction, each up to its word alone on
  a line;
- `$NAME`, `${NAME}`, `${NAME:-word}`, `${NAME-word}`, `${NAME:+word}`, `${NAME+word}`
  expand; single quotes are literal; the escape character quotes the next one.

Linear in the text: every line is visited once, and an expansion nests at most
MAX_NESTING deep.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from envlock.plan.model import PlanError, Span

MAX_NESTING = 8  # ${A:-${B:-...}}: deeper is not a real Dockerfile
_DIRECTIVE = re.compile(r"#[ \t]*([A-Za-z][A-Za-z0-9]*)[ \t]*=[ \t]*(.*?)[ \t]*$")
_HEREDOC = re.compile(r"<<(-?)[ \t]*(?:\"([^\"\n]+)\"|'([^'\n]+)'|([A-Za-z0-9_.]+))")
_HEREDOC_KEYWORDS = frozenset({"RUN", "COPY", "ADD"})
_NAME_START = re.compile(r"[A-Za-z_]")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True, slots=True, kw_only=True)
class Heredoc:
    word: str
    body: str
    expand: bool  # an unquoted word: the body's variables expand


@dataclass(frozen=True, slots=True, kw_only=True)
class Instruction:
    keyword: str  # upper case: FROM, RUN, ...
    args: str  # after the keyword, continuations joined, comments and blank lines dropped
    heredocs: tuple[Heredoc, ...]
    span: Span


def instructions(text: str, source: str, limit: int) -> tuple[list[Instruction], str]:
    """The instructions of a Dockerfile, and its escape character (PlanError past `limit`)."""
    lines = text.split("\n")
    escape, i = _directives(lines, source)
    continuation = re.compile(re.escape(escape) + r"[ \t]*$")
    out: list[Instruction] = []
    while i < len(lines):
        stripped = lines[i].strip()
        if not stripped or stripped.startswith("#"):
            i += 1
            continue
        if len(out) >= limit:
            raise PlanError(f"{source}: more than {limit} instructions")
        start = i
        logical, i = _logical_line(lines, i, continuation)
        m = re.match(r"\s*(\S+)[ \t]*(.*)", logical, re.S)
        if m is None:  # only an escape character, continued to nothing: no instruction
            continue
        keyword = m[1].upper()
        heredocs: list[Heredoc] = []
        if keyword in _HEREDOC_KEYWORDS:
            i = _heredocs(m[2], lines, i, heredocs, source)
        out.append(
            Instruction(
                keyword=keyword,
                args=m[2].strip(),
                heredocs=tuple(heredocs),
                span=Span(file=source, line=start + 1, end_line=i, text="\n".join(lines[start:i])),
            )
        )
    return out, escape


def _directives(lines: list[str], source: str) -> tuple[str, int]:
    """The escape character the directives set, and the first line after them."""
    escape, seen = "\\", set()
    i = 0
    while i < len(lines):
        m = _DIRECTIVE.match(lines[i].strip())
        if m is None or m[1].lower() not in ("escape", "syntax", "check"):
            break  # an unknown directive is a comment, which ends the directives
        key = m[1].lower()
        if key in seen:
            raise PlanError(f"{source}:{i + 1}: only one {key} parser directive can be used")
        seen.add(key)
        if key == "escape":
            if m[2] not in ("\\", "`"):
                raise PlanError(
                    f"{source}:{i + 1}: invalid escape token {m[2]!r} does not match ` or \\"
                )
            escape = m[2]
        i += 1
    return escape, i


def _logical_line(lines: list[str], i: int, continuation: re.Pattern[str]) -> tuple[str, int]:
    """The instruction starting at line i, its continuations joined; the next line."""
    parts = []
    line = lines[i]
    i += 1
    while True:
        m = continuation.search(line)
        if m is None:
            parts.append(line)
            return "".join(parts), i
        parts.append(line[: m.start()])
        # comment and blank lines inside a continued instruction are dropped
        while i < len(lines) and (not lines[i].strip() or lines[i].lstrip().startswith("#")):
            i += 1
        if i >= len(lines):
            return "".join(parts), i
        line = lines[i]
        i += 1


def _heredocs(args: str, lines: list[str], i: int, out: list[Heredoc], source: str) -> int:
    """Read the bodies of the heredocs `args` opens, from line i; the line after them."""
    for m in _HEREDOC.finditer(args):
        strip_tabs = m[1] == "-"
        word = m[2] or m[3] or m[4]
        body: list[str] = []
        while True:
            if i >= len(lines):
                raise PlanError(f"{source}: unterminated heredoc <<{word} (no line {word!r})")
            line = lines[i]
            i += 1
            if strip_tabs:
                line = line.lstrip("\t")
            if line == word:
                break
            body.append(line)
        out.append(Heredoc(word=word, body="\n".join(body), expand=m[4] is not None))
    return i


# ------------------------------------------------------------------ words and variables
def words(text: str, env: Mapping[str, str], escape: str = "\\") -> list[str]:
    """`text` as BuildKit's lexer splits it into words: quotes removed, variables
    expanded (an unset one is empty), the escape character quoting the next one."""
    return _Lexer(text, env, escape, keep_quotes=False, keep_unknown=False).words()


def expand(text: str, env: Mapping[str, str], escape: str = "\\") -> str:
    """`text` with the variables `env` holds expanded and the rest left as written, its
    quotes kept (a RUN command's text, which a shell reads next)."""
    return _Lexer(text, env, escape, keep_quotes=True, keep_unknown=True).text()


class _Lexer:
    def __init__(
        self,
        text: str,
        env: Mapping[str, str],
        escape: str,
        *,
        keep_quotes: bool,
        keep_unknown: bool,
        depth: int = 0,
    ) -> None:
        self.s, self.env, self.esc = text, env, escape
        self.keep_quotes, self.keep_unknown, self.depth = keep_quotes, keep_unknown, depth
        self.i = 0

    def text(self) -> str:
        out: list[str] = []
        quote = None
        plain = re.compile(f"[^$'\"{re.escape(self.esc)}]+")
        while self.i < len(self.s):
            run = plain.match(self.s, self.i)
            if run is not None:  # ordinary characters: copied in one step
                out.append(run[0])
                self.i = run.end()
                continue
            c = self.s[self.i]
            if c == self.esc and quote != "'" and self.i + 1 < len(self.s):
                out.append(self.s[self.i : self.i + 2])
                self.i += 2
            elif c in "'\"" and (quote is None or quote == c):
                quote = None if quote == c else c
                out.append(c)
                self.i += 1
            elif c == "$" and quote != "'":
                out.append(self._dollar())
            else:
                out.append(c)
                self.i += 1
        return "".join(out)

    def words(self) -> list[str]:
        result: list[str] = []
        word: list[str] = []
        started = False
        plain = re.compile(f"[^$'\" \t\n{re.escape(self.esc)}]+")
        while self.i < len(self.s):
            c = self.s[self.i]
            if c in " \t\n":
                if started:
                    result.append("".join(word))
                word, started = [], False
                self.i += 1
                continue
            started = True
            run = plain.match(self.s, self.i)
            if run is not None:
                word.append(run[0])
                self.i = run.end()
            else:
                word.append(self._word_part(c))
        if started:
            result.append("".join(word))
        return result

    def _word_part(self, c: str) -> str:
        if c == self.esc and self.i + 1 < len(self.s):
            self.i += 2
            return self.s[self.i - 1]
        if c == "'":
            end = self.s.find("'", self.i + 1)
            end = len(self.s) if end < 0 else end
            part = self.s[self.i + 1 : end]
            self.i = end + 1
            return part
        if c == '"':
            return self._double_quoted()
        if c == "$":
            return self._dollar()
        self.i += 1
        return c

    def _double_quoted(self) -> str:
        self.i += 1
        out: list[str] = []
        while self.i < len(self.s) and self.s[self.i] != '"':
            c = self.s[self.i]
            if c == self.esc and self.i + 1 < len(self.s) and self.s[self.i + 1] in '"$' + c:
                out.append(self.s[self.i + 1])
                self.i += 2
            elif c == "$":
                out.append(self._dollar())
            else:
                out.append(c)
                self.i += 1
        self.i += 1
        return "".join(out)

    def _dollar(self) -> str:
        """Expand the variable at self.i (a `$`)."""
        start = self.i
        self.i += 1
        if self.i < len(self.s) and self.s[self.i] == "{":
            return self._braced(start)
        m = _NAME.match(self.s, self.i)
        if m is None:
            return "$"
        self.i = m.end()
        return self._value(m[0], self.s[start : self.i])

    def _braced(self, start: int) -> str:
        close = self._matching_brace(self.i)
        if close < 0:  # no closing brace: BuildKit refuses; keep the text as written
            self.i = len(self.s)
            return self.s[start:]
        inner = self.s[self.i + 1 : close]
        self.i = close + 1
        written = self.s[start : self.i]
        m = re.match(r"([A-Za-z_][A-Za-z0-9_]*)(?::?[-+?])?", inner)
        if m is None:
            return written
        name, op = m[1], inner[len(m[1]) : m.end()]
        if op == "" and m.end() == len(inner):
            return self._value(name, written)
        if op == "" or op.endswith("?"):
            return self._value(name, written)  # ${X#...}, ${X?...}: the value, as set
        word = self._sub(inner[m.end() :])
        value = self.env.get(name)
        unset = value is None or (op.startswith(":") and value == "")
        if op.endswith("-"):
            return word if unset else str(value)
        return "" if unset else word

    def _matching_brace(self, i: int) -> int:
        depth = 0
        while i < len(self.s):
            c = self.s[i]
            if c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    return i
            i += 1
        return -1

    def _sub(self, word: str) -> str:
        if self.depth >= MAX_NESTING:
            raise PlanError(f"variables nested more than {MAX_NESTING} deep")
        lexer = _Lexer(
            word,
            self.env,
            self.esc,
            keep_quotes=self.keep_quotes,
            keep_unknown=self.keep_unknown,
            depth=self.depth + 1,
        )
        return lexer.text() if self.keep_quotes else " ".join(lexer.words())

    def _value(self, name: str, written: str) -> str:
        value = self.env.get(name)
        if value is None:
            return written if self.keep_unknown else ""
        return value
