"""How a collect_env report was pasted, undone before it is read (issue 21).

Real pastes wrap the report in layouts of their own: quoted as a reply ("> ", "> > ",
">"), inside Markdown fences, <details>/<pre>/<code>, indented as a code block, behind
list bullets of an issue form, HTML-escaped or Markdown-escaped when copied from a
rendered page, with non-breaking or zero-width spaces and smart quotes, blank lines
removed or doubled, hard-wrapped at a terminal's width, or flattened onto one line by a
chat tool. `undo_layout` turns any of these (and their combinations) back into the
report's own lines, so the parser reads one layout: the report as collect_env printed it.

A paste of two reports (before/after, two machines) is read for its first: the second is
cut where its keys start again, with a note (the doctor judges one environment).

Every step is one pass over the text, or one per line, with literal searches and patterns
that are anchored or bounded: linear in the paste, whatever it holds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from envlock.pasted.collect_env import BLOCKS, KEYS
from envlock.pasted.draft import MAX_LINES
from envlock.pasted.emphasis import unemphasized
from envlock.pasted.line_starts import KEY_AT, LINE_START_AT, READER_AT, starts_line, whole_line
from envlock.pasted.log_prefix import undo_log_prefix
from envlock.pasted.notebook import notebook_lines
from envlock.pasted.rows import continues_list, same_rows

# characters a rendered page or a word processor puts in for plain ones
_CHARS = str.maketrans(
    {
        "\u00a0": " ",
        "\u2007": " ",
        "\u202f": " ",
        "\u200b": None,
        "\u200c": None,
        "\u200d": None,
        "\u2060": None,
        "\ufeff": None,
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
    }
)
# "&amp;" last: "&amp;gt;" is the text "&gt;", not ">"
_ENTITIES = (
    ("&lt;", "<"),
    ("&gt;", ">"),
    ("&quot;", '"'),
    ("&#39;", "'"),
    ("&#x27;", "'"),
    ("&apos;", "'"),
    ("&nbsp;", " "),
    ("&amp;", "&"),
)
# Markdown's escapes of the characters it would render (\_ in CUDA\_HOME)
_MD_ESCAPES = ("_", "*", "[", "]", "#", "`")
_WINDOWS_PATH = re.compile(r"\\[A-Za-z0-9]")
# a line's quote markers; possessive: each character is looked at once
_QUOTES = re.compile(r"(?:[ \t]*+>[ \t]?)++")
# quote markers and list bullets, in any order
_DECORATION = re.compile(r"(?:[ \t]*+>[ \t]?|[ \t]*+[-*+][ \t])++")
# a list bullet, wherever the list is indented
_BULLET = re.compile(r"[ \t]*+[-*+][ \t]")
# what flattening left at the end of a piece (" > > ", " - "), read on the reversed piece
_MARKS_REVERSED = re.compile(r"[ \t]*+(?:[>*+\-][ \t]++)*+")
# the HTML tags an issue wraps a report in; <br> is a line break
_BR = re.compile(r"<br\s{0,8}/?>", re.IGNORECASE)
_TAG = re.compile(
    r"</?(?:details|summary|pre|code|p|tt|kbd|samp|blockquote)\b[^<>\n]{0,100}>", re.IGNORECASE
)

_BANNER_END = re.compile(r"={5,}|-{5,}")
# keys of blocks: a report holds them once, their lines may repeat words of other keys
_BLOCK_KEYS = frozenset(k for k, name in KEYS.items() if name in BLOCKS)
_HEADER = "Collecting environment information"
# what ends each of torch's warnings printed into a report: a flattened paste of several
# is split there, one warning a line (each is read on its own line)
_WARN = "warnings.warn("
# a text whose longest line is longer than this was not hard-wrapped
_MAX_WRAP = 160
# the widths terminals and mail clients wrap at (a word wrap's lines fall short of it)
_WIDTHS = (72, 80, 100, 120, 132)
# the keys only collect_env prints (an issue form's "- Python version: 3.8" is the user's)
_REPORT_ONLY: tuple[str, ...] = (
    "is debug build",
    "cuda used to build pytorch",
    "is cuda available",
)
_REPORT_ONLY += ("cuda available:", "rocm available:", "cuda driver version:")  # check_env
_EXCERPT_ONLY = ("versions of relevant libraries", "[pip3] ", "[pip] ", "[conda] ")  # no colon
_CC = "cuda capability"  # torch's warnings about a GPU


@dataclass
class Layout:
    """The report's own lines, and what was noted about the paste."""

    text: str
    notes: list[str] = field(default_factory=list)


def undo_layout(text: str) -> Layout:
    """The pasted `text` as the report's own lines (see the module's docstring). Only its
    first MAX_LINES lines are looked at: the reader skips the rest (Draft.readable)."""
    lines = _plain(text).split("\n", MAX_LINES)
    rest = lines.pop() if len(lines) > MAX_LINES else None
    lines = undo_log_prefix(lines)
    bullets = _bulleted(lines)
    prompts = _prompts(lines)
    lines = [line if i in prompts else _undecorated(line, bullets) for i, line in enumerate(lines)]
    lines = notebook_lines(lines, _key_of)
    lines = [line.rstrip() for line in _unwrapped(lines)]
    lines = _split_flattened(lines)
    keys = [_key_of(line) for line in lines]
    lines, notes = _first_report(_dedented(lines, keys), keys)
    return Layout("\n".join(lines if rest is None else [*lines, rest]), notes)


def undo_quoting(text: str) -> str:
    """Another pasted text (nvidia-smi, pip freeze) without what a reply, a page or an issue
    form put around its lines: the characters and tags of `_plain`, quote markers, and list
    bullets where every line has one. Its lines are otherwise kept (wrapped and flattened
    lines, and two reports, are told by collect_env's keys)."""
    lines = _plain(text).split("\n", MAX_LINES)
    rest = lines.pop() if len(lines) > MAX_LINES else None
    lines = [line[_quote_end(line) :] for line in lines]
    filled = [line for line in lines if line.strip()]
    if filled and all(_bullet_end(line, 0) for line in filled):
        lines = [line[_bullet_end(line, 0) :] for line in lines]
    return "\n".join(lines if rest is None else [*lines, rest])


def _plain(text: str) -> str:
    """Plain characters, line breaks, no HTML escapes, Markdown escapes or wrapping tags."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_CHARS)
    if "&" in text:
        for entity, char in _ENTITIES:
            text = text.replace(entity, char)
    if "\\" in text:
        text = "\n".join(_md_unescaped(line) for line in text.split("\n"))
    if "<" in text:
        text = _TAG.sub("", _BR.sub("\n", text))
    return text


def _md_unescaped(line: str) -> str:
    """A line without Markdown's escapes. In a Windows path (a backslash before a letter or
    digit, which Markdown never escapes) only its file name's: "torch\\_subclasses\\x.py"
    is a folder, "bin\\cudnn64\\_7.dll" the file cudnn64_7.dll."""
    if "\\" not in line:
        return line
    if not _WINDOWS_PATH.search(line):
        return _md_plain(line)
    words = line.split(" ")
    for i, word in enumerate(words):
        at = _last_separator(word)
        if "\\" in word[at:]:
            words[i] = word[:at] + _md_plain(word[at:])
    return " ".join(words)


def _last_separator(word: str) -> int:
    """Where a word's last path component starts (after its last backslash before a letter
    or digit); 0 if it has none."""
    at = word.rfind("\\")
    while at >= 0:
        # Markdown escapes each "_": a backslash before two is a folder's ("cuda\\__init__.py")
        if word[at + 1 : at + 2].isalnum() or word[at + 1 : at + 3] == "__":
            return at + 1
        at = word.rfind("\\", 0, at)
    return 0


def _md_plain(text: str) -> str:
    for char in _MD_ESCAPES:
        text = text.replace("\\" + char, char)
    return text


def _prompts(lines: list[str]) -> set[int]:
    """The lines that are Python's prompt (">>> torch.version.cuda"), not a quote three deep:
    the nearest filled line before and after carries no quote marker (a reply quotes its
    lines together)."""
    found: set[int] = set()
    for i, line in enumerate(lines):
        if not line.startswith(">>> "):
            continue
        before = next((x for x in reversed(lines[max(0, i - 8) : i]) if x.strip()), "")
        after = next((x for x in lines[i + 1 : i + 9] if x.strip()), "")
        if not (_quote_end(before) or _quote_end(after)):
            found.add(i)
    return found


def _quote_end(line: str, start: int = 0) -> int:
    """Where a line's quote markers (">", "> > ", "  >") from `start` end; `start` if none."""
    m = _QUOTES.match(line, start)
    return m.end() if m else start


def _bullet_end(line: str, start: int) -> int:
    """Where a list bullet ("- ", "* ", "+ ") after `start` ends; `start` if none."""
    m = _BULLET.match(line, start)
    return m.end() if m else start


def _bulleted(lines: list[str]) -> bool:
    """Whether the report's lines carry an issue form's bullets: a line only collect_env
    prints, behind a bullet."""
    for line in lines:
        bare = line[_decoration_end(line, True) :].lstrip().lower()
        # (a flattened report's line; an excerpt of the library list or of torch's warnings)
        if bare.startswith(_REPORT_ONLY + _EXCERPT_ONLY) or _two_keys(bare) or _CC in bare:
            return _decoration_end(line, True) > _decoration_end(line, False)
    return False


def _decoration_end(line: str, bullets: bool) -> int:
    """Where a line's quote markers and (with `bullets`) list bullets end, in any order."""
    m = (_DECORATION if bullets else _QUOTES).match(line)
    return m.end() if m else 0


def _undecorated(line: str, bullets: bool) -> str:
    """The line without its quote markers and (where the report has them) its bullets; an
    undecorated line as it is, its indentation kept."""
    return unemphasized(line[_decoration_end(line, bullets) :])


def _without_trailing_marks(segment: str) -> str:
    """A flattened line's piece without the quote markers and bullets of the line after it
    (" > ", " - "), which flattening left at its end."""
    m = _MARKS_REVERSED.match(segment[::-1])
    return segment[: len(segment) - m.end()] if m else segment


def _unwrapped(lines: list[str]) -> list[str]:
    """Lines hard-wrapped at a width (every cut line as wide as the widest, or the next word
    would not have fit on it) joined back. The width is the widest line, its indentation
    aside, of those a terminal could have wrapped (a longer line was not)."""
    indent = min((len(x) - len(x.lstrip()) for x in lines if x.strip()), default=0)
    raw = [max(len(x.rstrip()) - indent, 0) for x in lines]
    width = max((n for n in raw if n <= _MAX_WRAP), default=0)
    # A column cut leaves its lines as wide as the widest, mid-word as likely as not (a cut
    # that fell on blanks left the line as wide, its last characters the blanks); a word
    # wrap leaves them a little short of it, the blank dropped, and some as wide by chance.
    wide = {i for i, x in enumerate(lines) if raw[i] <= width <= len(x) - indent}
    cuts = {i for i in range(len(lines) - 1) if _cut(lines, raw, i, width, i in wide)}
    if width < 20 or not cuts or (len(cuts) < 2 and not _common_width(width)):
        return lines
    return _joined(lines, cuts, _columns(lines, cuts & wide, cuts, width), indent)


def _columns(lines: list[str], columns: set[int], cuts: set[int], width: int) -> set[int]:
    """The cuts made at the column, mid-word (the others fell between words), of the cuts
    at the width (`columns`)."""
    if len(columns) <= len(cuts - columns):
        # a word wrap cuts a word only where it is longer than a line
        columns = {i for i in columns if _word_across(lines[i], lines[i + 1], width)}
    return columns


def _word_across(line: str, nxt: str, width: int) -> bool:
    """Whether the word a line ends with and the one the next starts with are, together,
    longer than a line could hold (one word a word wrap had to cut)."""
    last = line.rsplit(None, 1)[-1] if line.strip() else ""
    first = nxt.split(None, 1)[0] if nxt.strip() else ""
    return len(last) + len(first) > width - 8


def _common_width(width: int) -> bool:
    """Whether a text as wide as `width` may be wrapped at a common width (a word wrap's
    lines fall short of it by a word at most)."""
    return any(w - 12 <= width <= w for w in _WIDTHS)


def _joined(lines: list[str], cuts: set[int], columns: set[int], indent: int) -> list[str]:
    """Each line in `cuts` joined with the next: as it is where it was cut at the column
    (`columns`; the continuation's indentation, `indent`, dropped), else with a blank."""
    out: list[str] = []
    line = ""
    for i, nxt in enumerate(lines):
        if i - 1 in columns:
            # a cut that fell on a blank kept it, as one
            line += nxt[indent:].rstrip() + (" " if nxt[-1:].isspace() else "")
        elif i - 1 in cuts:
            line = line.rstrip()
            # a word wrap that broke a word at its hyphen ("...-nvidia-" / "aarch64-...")
            hyphen = line[-1:] == "-" and (line[-2:-1].isalnum() or line[-2:-1] == ";")
            line += ("" if hyphen else " ") + nxt.strip()
        else:
            line = nxt
        if i not in cuts:
            out.append(line)
    return out


def _cut(lines: list[str], raw: list[int], i: int, width: int, wide: bool) -> bool:
    """Whether line i was cut: the next line is no line's start, and line i is as `wide` as
    the widest, or the next line's first word would not have fit on it (or a key's value
    went to it)."""
    nxt = lines[i + 1]
    if not lines[i].strip() or same_rows(lines[i], nxt) or whole_line(lines[i]):
        return False
    if starts_line(nxt) and not continues_list(lines[i], nxt):
        return False
    if lines[i].rstrip().endswith("|") and nxt.lstrip().startswith("|"):
        return False  # rows of nvidia-smi's table
    if wide:
        return True
    first = nxt.split(None, 1)[0]
    if _value_wrapped(lines[i]) or first[0] in ":\uff1a":
        # no line of a report starts with a colon: the wrap fell between a key and its value
        return True
    # a word wrap fills a line at least half way before it breaks
    return 2 * raw[i] >= width and raw[i] <= width < raw[i] + 1 + len(first)


def _value_wrapped(line: str) -> bool:
    """Whether a line ends in a known key with nothing after it where a value belongs (the
    value was wrapped onto the next line; a block's key line is followed by its lines)."""
    line = line.rstrip()
    if not line.endswith((":", "\uff1a")):
        return False
    last = None
    for last in KEY_AT.finditer(line):  # noqa: B007 - the last match is the one wanted
        pass
    if last is not None and last.end() == len(line):
        return " ".join(last.group().rstrip(":\uff1a").lower().split()) not in _BLOCK_KEYS
    for last in LINE_START_AT.finditer(line):  # noqa: B007 - an lscpu key ("NUMA node(s):")
        pass
    return last is not None and last.end() == len(line)


def _split_flattened(lines: list[str]) -> list[str]:
    """A paste flattened onto one line (a line holding two of the report's keys or more, or
    its pieces where it was wrapped again): each line split before each key, block line,
    variable and banner it holds."""
    if not any(_two_keys(line) or _twice(line) for line in lines):
        return lines
    out: list[str] = []
    for line in lines:
        starts = sorted(
            {m.start() for m in KEY_AT.finditer(line)}
            | {m.start() for m in LINE_START_AT.finditer(line)}
            | {m.start() for m in READER_AT.finditer(line)}
            | {m.end() for m in _BANNER_END.finditer(line)}
            | _found(line, _WARN)
            | _found(line, "```")  # a fence flattened onto the report: a line of its own
            | _found(line, "~~~")
        )
        cut = 0
        for at in starts:
            if at > cut:
                out.append(_without_trailing_marks(line[cut:at]))
                cut = at
        out.append(_without_trailing_marks(line[cut:]))
    return out


def _twice(line: str) -> bool:
    """Whether a line holds two of torch's warnings, or two of the readers' line starts."""
    starts = READER_AT.finditer(line)
    return line.count(_WARN) > 1 or (
        next(starts, None) is not None and next(starts, None) is not None
    )


def _found(line: str, literal: str) -> set[int]:
    """Where `literal` occurs in a line."""
    found = set()
    at = line.find(literal)
    while at >= 0:
        found.add(at)
        at = line.find(literal, at + len(literal))
    return found


def _two_keys(line: str) -> bool:
    """Whether a line holds two of the report's keys or more."""
    # two keys need two colons: most lines are passed over without a search
    if line.count(":") + line.count("\uff1a") < 2:
        return False
    keys = KEY_AT.finditer(line)
    return next(keys, None) is not None and next(keys, None) is not None


def _key_of(line: str) -> str | None:
    """The known key a line starts with (lowercase, single spaces), if any."""
    if ":" not in line and "\uff1a" not in line:
        return None
    m = KEY_AT.match(line.lstrip())
    return " ".join(m.group().rstrip(":\uff1a").lower().split()) if m else None


def _dedented(lines: list[str], keys: list[str | None]) -> list[str]:
    """The lines without the indentation all the report's key lines share (a code block's
    four spaces or tab on top of the report's own)."""
    indents = [len(x) - len(x.lstrip()) for x, key in zip(lines, keys, strict=True) if key]
    cut = min(indents, default=0)
    if cut == 0:
        return lines
    return [line[min(cut, len(line) - len(line.lstrip())) :] for line in lines]


def _header_before(lines: list[str], keys: list[str | None], cut: int) -> int:
    """Where the second report starts: its header before `cut` (torch's warnings follow it),
    where it has one after the first report's first key."""
    first = next(i for i, key in enumerate(keys) if key)
    header = [i for i in range(first, cut) if _HEADER in lines[i]]
    return header[-1] if header else cut


def _first_report(lines: list[str], keys: list[str | None]) -> tuple[list[str], list[str]]:
    """The first report of a paste that holds more (a key only collect_env prints, seen
    again): its lines up to where its keys start again, and a note."""
    starts = [key for key in keys if key in _REPORT_ONLY[:2]]
    if len(starts) <= len(set(starts)):
        return lines, []
    seen: set[str] = set()
    reports = 1
    cut = None
    for i, key in enumerate(keys):
        if key is None or key in _BLOCK_KEYS:
            continue
        if key in seen:
            cut = i if cut is None else cut
            reports += 1
            seen = set()
        seen.add(key)
    cut = _header_before(lines, keys, cut or 0)
    note = (
        f"the paste holds {reports} collect_env reports: the first is read "
        "(give each on its own to check it)"
    )
    return lines[:cut], [note]
