"""Install commands in a shell script (a RUN line, a heredoc body): `pip install`,
`pip3 install`, `python -m pip install`, `uv pip install`, `conda|mamba|micromamba
install|create`, across `&&`, `||`, `;` and `|` chains, with their options as pip, uv and
conda read them. Words are split as a POSIX shell splits them (shlex); a line shlex
cannot split (an open quote) is skipped with a note, never guessed at."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from envlock.plan.model import Install, Installer, Requirement, Span
from envlock.plan.reqs import MAX_REQUIREMENTS, conda_requirement, pip_requirement

# options that take a value (the next word, or after "="): pip's and uv's install options
PIP_VALUE_OPTIONS = frozenset(
    [
        "-c",
        "--constraint",
        "-e",
        "--editable",
        "-t",
        "--target",
        "--platform",
        "--python-version",
        "--implementation",
        "--abi",
        "--root",
        "--prefix",
        "--src",
        "--upgrade-strategy",
        "-C",
        "--config-settings",
        "--global-option",
        "--no-binary",
        "--only-binary",
        "--progress-bar",
        "--root-user-action",
        "--report",
        "--log",
        "--proxy",
        "--retries",
        "--timeout",
        "--exists-action",
        "--trusted-host",
        "--cert",
        "--client-cert",
        "--cache-dir",
        "--python",
        "-p",
        "--torch-backend",
        "--index-strategy",
        "--keyring-provider",
        "--resolution",
        "--prerelease",
        "--python-platform",
        "--exclude-newer",
        "--link-mode",
        "--reinstall-package",
        "--no-build-package",
        "--no-binary-package",
        "--override",
        "--build-constraint",
        "-P",
        "--upgrade-package",
        "--refresh-package",
        "--config-file",
        "--directory",
    ]
)
CONDA_VALUE_OPTIONS = frozenset(
    [
        "-n",
        "--name",
        "-p",
        "--prefix",
        "--file",
        "--solver",
        "--repodata-fn",
        "--experimental",
        "-r",
        "--root-prefix",
        "--platform",
        "--subdir",
    ]
)
_SKIP_WORDS = frozenset({"sudo", "env", "time", "exec", "nice", "command", "nohup", "then"})
_SEPARATORS = frozenset({"&&", "||", ";", "|", "&", "(", ")", ";;", "|&", "{", "}"})
_PIP = re.compile(r"pip(?:\d+(?:\.\d+)?)?")
_PYTHON = re.compile(r"python(?:\d+(?:\.\d+)?)?")
_CONDA = frozenset({"conda", "mamba", "micromamba"})


@dataclass
class ScriptRead:
    installs: list[Install] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# reads a -r file beside the plan file: its requirements, or None when it is not there
ReadRequirements = Callable[[str], list[Requirement] | None]


def installs_in(script: str, span: Span, read_requirements: ReadRequirements | None) -> ScriptRead:
    """The install commands of a shell script, each with the span of its RUN line."""
    out = ScriptRead()
    # a backslash-newline joins lines, as the shell does; a newline separates commands
    for line in script.replace("\\\n", " ").split("\n"):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            tokens = _tokens(line)
        except ValueError as e:
            out.notes.append(f"{span.where}: a shell line could not be split ({e}): skipped")
            continue
        for argv in _commands(tokens):
            install = command_install(argv, span, read_requirements, out.notes)
            if install is not None:
                out.installs.append(install)
    return out


# One shell token piece: a quoted string, an escaped character, an operator run, a comment,
# blanks, or a run of ordinary characters; an opening quote with no close is its own piece
# (the line cannot be split). Each alternative is a plain character class run: linear.
_PIECE = re.compile(
    r"(?P<single>'[^']*')|(?P<double>\"(?:[^\"\\]|\\.)*\")|(?P<escaped>\\.?)"
    r"|(?P<op>[;&|()]+)|(?P<blank>[ \t\r\f\v]+)|(?P<word>[^\s'\"\\;&|()]+)|(?P<open>['\"])",
    re.S,
)
_DOUBLE_ESCAPE = re.compile(r"\\([\"\\$`])")


def _tokens(line: str) -> list[str]:
    """The words and operators of one shell line, quotes removed (POSIX rules: a `#` that
    starts a word starts a comment); ValueError for a quote that is not closed."""
    tokens: list[str] = []
    word: list[str] = []
    in_word = False
    for m in _PIECE.finditer(line):
        kind, text = m.lastgroup, m[0]
        if kind == "open":
            raise ValueError("no closing quotation")
        if kind in ("blank", "op"):
            if in_word:
                tokens.append("".join(word))
            word, in_word = [], False
            if kind == "op":
                tokens.append(text)
            continue
        if kind == "word" and not in_word and text.startswith("#"):
            break  # a comment, to the end of the line
        in_word = True
        word.append(_unquoted(kind, text))
    if in_word:
        tokens.append("".join(word))
    return tokens


def _unquoted(kind: str | None, text: str) -> str:
    if kind == "single":
        return text[1:-1]
    if kind == "double":
        return _DOUBLE_ESCAPE.sub(r"\1", text[1:-1])
    if kind == "escaped":
        return text[1:]
    return text


def _commands(tokens: list[str]) -> Iterator[list[str]]:
    argv: list[str] = []
    for token in tokens:
        if token in _SEPARATORS or set(token) <= set(";&|()"):
            if argv:
                yield argv
            argv = []
        else:
            argv.append(token)
    if argv:
        yield argv


def command_install(
    argv: list[str], span: Span, read_requirements: ReadRequirements | None, notes: list[str]
) -> Install | None:
    """The install one command runs (argv as the shell passes it), or None."""
    words = _without_prefix(argv)
    if not words:
        return None
    prog = os.path.basename(words[0])
    rest = words[1:]
    installer: Installer
    if _PIP.fullmatch(prog):
        installer = "pip"
    elif _PYTHON.fullmatch(prog) and rest[:2] == ["-m", "pip"]:
        installer, rest = "pip", rest[2:]
    elif prog == "uv" and rest[:1] == ["pip"]:
        installer, rest = "uv", rest[1:]
    elif prog in _CONDA:
        if rest[:1] not in (["install"], ["create"]):
            return None
        return _conda(rest[1:], span, notes)
    else:
        return None
    if rest[:1] in (["install"], ["sync"]):
        return _pip(installer, rest[1:], span, read_requirements, notes, uninstall=False)
    if rest[:1] == ["uninstall"]:
        return _pip(installer, rest[1:], span, None, notes, uninstall=True)
    return None


def _without_prefix(argv: list[str]) -> list[str]:
    """argv past `VAR=value` assignments, sudo, env and the like."""
    i = 0
    while i < len(argv) and (
        argv[i] in _SKIP_WORDS
        or re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", argv[i], re.S)
        or (i > 0 and argv[i].startswith("-") and argv[i - 1] in _SKIP_WORDS)  # sudo -H
    ):
        i += 1
    return argv[i:]


@dataclass
class _PipArgs:
    positional: list[str] = field(default_factory=list)
    index_url: str | None = None
    extra: list[str] = field(default_factory=list)
    find_links: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    torch_backend: str | None = None


def _pip_args(args: list[str]) -> _PipArgs:
    out = _PipArgs()
    i = 0
    while i < len(args):
        word = args[i]
        name, eq, value = word.partition("=") if word.startswith("--") else (word, "", "")
        if word.startswith("-") and len(word) > 2 and not word.startswith("--"):
            # a short option with its value attached: -rrequirements.txt, -ihttps://...
            name, eq, value = word[:2], "=", word[2:]
        takes = name in PIP_VALUE_OPTIONS or name in _PIP_URL_OPTIONS
        if takes and not eq:
            value = args[i + 1] if i + 1 < len(args) else ""
            i += 1
        i += 1
        if name in _PIP_URL_OPTIONS:
            _PIP_URL_OPTIONS[name](out, value)
        elif not word.startswith("-"):
            out.positional.append(word)
    return out


_PIP_URL_OPTIONS: dict[str, Callable[[_PipArgs, str], None]] = {
    "-i": lambda a, v: setattr(a, "index_url", v),
    "--index-url": lambda a, v: setattr(a, "index_url", v),
    "--default-index": lambda a, v: setattr(a, "index_url", v),
    "--extra-index-url": lambda a, v: a.extra.append(v),
    "--index": lambda a, v: a.extra.append(v),
    "-f": lambda a, v: a.find_links.append(v),
    "--find-links": lambda a, v: a.find_links.append(v),
    "-r": lambda a, v: a.files.append(v),
    "--requirement": lambda a, v: a.files.append(v),
    "--torch-backend": lambda a, v: setattr(a, "torch_backend", v),
}


def _pip(
    installer: Installer,
    args: list[str],
    span: Span,
    read_requirements: ReadRequirements | None,
    notes: list[str],
    *,
    uninstall: bool,
) -> Install:
    parsed = _pip_args(args)
    requirements: list[Requirement] = []
    if len(parsed.positional) > MAX_REQUIREMENTS:
        notes.append(f"{span.where}: more than {MAX_REQUIREMENTS} requirements: the rest skipped")
    for word in parsed.positional[:MAX_REQUIREMENTS]:
        req = pip_requirement(word, span=None)
        if req is None:
            if "$" in word:
                notes.append(f"{span.where}: {word!r} names a variable the file does not set")
            continue
        requirements.append(req)
    for name in parsed.files:
        found = read_requirements(name) if read_requirements is not None else None
        if found is None:
            notes.append(f"{span.where}: -r {name}: not found beside the plan file: not read")
        else:
            requirements.extend(found)
    return Install(
        installer=installer,
        requirements=tuple(requirements),
        index_url=parsed.index_url,
        extra_index_urls=tuple(parsed.extra),
        find_links=tuple(parsed.find_links),
        requirement_files=tuple(parsed.files),
        uninstall=uninstall,
        torch_backend=parsed.torch_backend,
        span=span,
    )


def _conda(args: list[str], span: Span, notes: list[str]) -> Install:
    channels: list[str] = []
    requirements: list[Requirement] = []
    i = 0
    while i < len(args) and len(requirements) < MAX_REQUIREMENTS:
        word = args[i]
        name, eq, value = word.partition("=") if word.startswith("--") else (word, "", "")
        if name in ("-c", "--channel"):
            value = value if eq else (args[i + 1] if i + 1 < len(args) else "")
            channels.append(value)
            i += 1 if eq else 2
            continue
        if name in CONDA_VALUE_OPTIONS:
            i += 1 if eq else 2
            continue
        i += 1
        if word.startswith("-"):
            continue
        req = conda_requirement(word, span=None)
        if req is None:
            notes.append(f"{span.where}: conda spec {word!r} not read")
        else:
            requirements.append(req)
    return Install(
        installer="conda", requirements=tuple(requirements), channels=tuple(channels), span=span
    )
