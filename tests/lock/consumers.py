"""What the real consumers of export's output make of it: pip's requirement-file parser,
packaging's PEP 751 reader, and BuildKit's Dockerfile parser (the `dockerfile` package
wraps Docker's own Go parser; the engine here, 20.10, has no `build --check`).

Each returns the structure the consumer sees, so a test can compare it with the one
the generator meant to write: an injected line, option or instruction shows up as an
extra entry.
"""

from __future__ import annotations

import shlex
import tempfile
import warnings
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import tomllib


@dataclass(frozen=True)
class PipLine:
    requirement: str | None  # None: an option line
    options: dict[str, Any]  # the options pip set on the line (those not at their default)


@cache
def _pip_parser() -> Any:
    with warnings.catch_warnings():  # pip's vendored pkg_resources warns when it loads
        warnings.simplefilter("ignore", DeprecationWarning)
        from pip._internal.network.session import PipSession
        from pip._internal.req.req_file import RequirementsFileParser, get_line_parser

        return RequirementsFileParser(PipSession(), get_line_parser(None))


def pip_lines(text: str) -> list[PipLine]:
    """Every line pip's requirement-file parser yields for `text`, as pip reads a file
    (`-r` and `-c` lines are returned, not followed)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "requirements.txt"
        path.write_bytes(text.encode("utf-8"))
        parsed = list(_pip_parser()._parse_file(str(path), constraint=False))
    return [
        PipLine(
            # pip keeps the spaces before a line's options; its requirement parser strips them
            requirement=_requirement(line),
            options={k: v for k, v in vars(line.opts).items() if _set(v)},
        )
        for line in parsed
    ]


def _requirement(line: Any) -> str | None:
    """The line's requirement, or None for an option line: pip before 25 says so with
    `is_requirement`; later pips give `requirement` None for an option line."""
    is_requirement = getattr(line, "is_requirement", line.requirement is not None)
    return line.requirement.strip() if is_requirement else None


def _set(value: Any) -> bool:
    """Whether a line set this option (pip fills the rest with None, [] or an empty
    FormatControl)."""
    if hasattr(value, "no_binary"):
        return bool(value.no_binary or value.only_binary)
    if hasattr(value, "all_releases"):  # pip >= 26: a ReleaseControl, empty unless set
        return bool(value.all_releases or value.only_final)
    return value not in (None, [], False)


def pylock(text: str) -> Any:
    """packaging's typed PEP 751 document of `text` (raises on anything it refuses)."""
    from packaging.pylock import Pylock

    return Pylock.from_dict(tomllib.loads(text))


@dataclass(frozen=True)
class Instruction:
    cmd: str
    flags: tuple[str, ...]
    value: tuple[str, ...]


def docker_instructions(text: str) -> list[Instruction]:
    """The instructions BuildKit's parser finds in `text` (comments dropped)."""
    import dockerfile

    return [
        Instruction(cmd=c.cmd.upper(), flags=tuple(c.flags), value=tuple(c.value))
        for c in dockerfile.parse_string(text)
    ]


def docker_unquote(word: str) -> str:
    """An ENV value as BuildKit's shell lexer reads a double-quoted word: backslash
    escapes only '"', '$' and the escape character itself (moby/buildkit
    frontend/dockerfile/shell/lex.go, processDoubleQuote)."""
    assert word.startswith('"') and word.endswith('"') and len(word) >= 2, word
    out, i, body = [], 0, word[1:-1]
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body) and body[i + 1] in '"$\\':
            out.append(body[i + 1])
            i += 2
            continue
        assert c not in '"', f"unescaped quote in {word!r}"
        assert c != "$", f"unescaped $ in {word!r}"
        out.append(c)
        i += 1
    return "".join(out)


def shell_words(command: str) -> list[str]:
    """A RUN line's words as sh splits them (POSIX quoting; no expansion needed here)."""
    return shlex.split(command, posix=True)
