"""Requirements as installers read them: one PEP 508 requirement (packaging's parser), a
wheel's file name, a conda match spec, and a requirements file in pip's grammar
(pip/_internal/req/req_file.py): `\\` continuations, `#` comments (at a line's start or
after a blank), `${VAR}` left unexpanded, `-r`/`--requirement` (read beside, at most
MAX_INCLUDE_DEPTH deep), `-c`, `-i`/`--index-url`, `--extra-index-url`, `-f`, per-line
`--hash` options, `-e` lines (editable: not a pin)."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from packaging.requirements import InvalidRequirement
from packaging.requirements import Requirement as Pep508
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

from envlock.plan.model import Install, Requirement, Span

MAX_INCLUDE_DEPTH = 5
MAX_REQUIREMENTS = 5000
_CONDA = re.compile(r"(?P<name>[A-Za-z0-9_][A-Za-z0-9_.-]*)\s*(?P<spec>(?:[=<>!~].*)?)", re.S)
_PER_LINE = re.compile(r"\s--(?:hash|global-option|config-settings|install-option)[= ]\S+")


def canonical(name: str) -> str:
    """PEP 503's normalized name."""
    return str(canonicalize_name(name))


def pip_requirement(word: str, *, span: Span | None) -> Requirement | None:
    """A requirement as pip reads one argument: PEP 508, or a wheel file or URL; None for
    what names no distribution (a path, a VCS URL, a word with a shell variable)."""
    if "$" in word:
        return None
    base = word.rsplit("/", 1)[-1].split("#", 1)[0]
    if base.endswith(".whl") and "@" not in word.split("://", 1)[0]:  # not `name @ URL`
        try:
            name, version, _, _ = parse_wheel_filename(base.replace("%2B", "+"))
        except InvalidWheelFilename:
            return None
        return Requirement(
            name=str(name), specifier=f"=={version}", url=word if "/" in word else None, span=span
        )
    try:
        req = Pep508(word)
    except InvalidRequirement:
        return None
    return Requirement(
        name=canonicalize_name(req.name),
        specifier=str(req.specifier),
        extras=tuple(sorted(req.extras)),
        markers=str(req.marker) if req.marker is not None else None,
        url=req.url,
        span=span,
    )


def conda_requirement(word: str, *, span: Span | None) -> Requirement | None:
    """A conda match spec (`pytorch`, `pytorch=2.1.0`, `pytorch==2.1.0=py3.10_cuda12.1_0`,
    `pytorch-cuda=12.1`, `pytorch::pytorch>=2`): `=X` is conda's X.* fuzzy match."""
    channel, sep, spec_text = word.strip().rpartition("::")
    m = _CONDA.fullmatch(spec_text)
    if m is None or (sep and not channel):
        return None
    spec, build = m["spec"].strip(), None
    if spec.startswith("=") and not spec.startswith("=="):
        version, _, build = spec[1:].partition("=")
        spec = f"=={version}" if version.endswith("*") else f"=={version}.*"
    elif spec.startswith("=="):
        version, _, build = spec[2:].partition("=")
        spec = f"=={version}"
    return Requirement(
        name=m["name"].lower(),
        specifier=spec,
        index=channel or None,
        build=build or None,
        span=span,
    )


@dataclass
class RequirementsFile:
    requirements: list[Requirement] = field(default_factory=list)
    index_url: str | None = None
    extra_index_urls: list[str] = field(default_factory=list)
    find_links: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# (from_file, name) -> the file's text, or None when it is not there
ReadBeside = Callable[[str, str], str | None]


def read_requirements_file(
    text: str, source: str, read_beside: ReadBeside | None, depth: int = 0
) -> RequirementsFile:
    """A requirements file's requirements (each with its line), options and notes."""
    out = RequirementsFile()
    for line_no, end, logical, raw in _logical_lines(text):
        span = Span(file=source, line=line_no, end_line=end, text=raw)
        line = _without_comment(logical).strip()
        if not line:
            continue
        if line.startswith("-"):
            _option(line, span, out, read_beside, depth)
            continue
        if len(out.requirements) >= MAX_REQUIREMENTS:
            out.notes.append(f"{source}: more than {MAX_REQUIREMENTS} requirements: rest skipped")
            break
        req = pip_requirement(_PER_LINE.sub("", " " + line).strip(), span=span)
        if req is None:
            out.notes.append(f"{span.where}: not a requirement pip reads as a name: skipped")
        else:
            out.requirements.append(req)
    return out


def _without_comment(line: str) -> str:
    """The line before its comment: a `#` at its start or after a blank (pip's rule)."""
    at = line.find("#")
    while at > 0 and not line[at - 1].isspace():
        at = line.find("#", at + 1)
    return line if at < 0 else line[:at]


def _logical_lines(text: str) -> list[tuple[int, int, str, str]]:
    """(first line, last line, joined text, text as written) for each logical line."""
    out = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        start, parts = i, []
        while lines[i].endswith("\\") and i + 1 < len(lines):
            parts.append(lines[i][:-1])
            i += 1
        parts.append(lines[i])
        out.append((start + 1, i + 1, "".join(parts), "\n".join(lines[start : i + 1])))
        i += 1
    return out


def _option(
    line: str, span: Span, out: RequirementsFile, read_beside: ReadBeside | None, depth: int
) -> None:
    m = re.match(r"(-[A-Za-z]|--[A-Za-z-]+)(?:\s*=\s*|\s+)?(.*)", line)
    if m is None:
        return
    name, value = m[1], m[2].strip()
    if name in ("-i", "--index-url"):
        out.index_url = value
    elif name == "--extra-index-url":
        out.extra_index_urls.append(value)
    elif name in ("-f", "--find-links"):
        out.find_links.append(value)
    elif name in ("-r", "--requirement"):
        out.files.append(value)
        _include(value, span, out, read_beside, depth)


def _include(
    name: str, span: Span, out: RequirementsFile, read_beside: ReadBeside | None, depth: int
) -> None:
    if depth >= MAX_INCLUDE_DEPTH:
        out.notes.append(f"{span.where}: -r {name}: nested more than {MAX_INCLUDE_DEPTH} deep")
        return
    text = read_beside(span.file, name) if read_beside is not None else None
    if text is None:
        out.notes.append(f"{span.where}: -r {name}: not found beside the plan file: not read")
        return
    inner_source = name if os.path.isabs(name) else os.path.join(os.path.dirname(span.file), name)
    inner = read_requirements_file(text, inner_source, read_beside, depth + 1)
    out.requirements.extend(inner.requirements[: MAX_REQUIREMENTS - len(out.requirements)])
    out.index_url = out.index_url or inner.index_url
    out.extra_index_urls.extend(inner.extra_index_urls)
    out.find_links.extend(inner.find_links)
    out.notes.extend(inner.notes)


def as_install(parsed: RequirementsFile, span: Span) -> Install:
    """A requirements file as one pip install of all it lists (`span`: the whole file)."""
    return Install(
        installer="pip",
        requirements=tuple(parsed.requirements),
        index_url=parsed.index_url,
        extra_index_urls=tuple(parsed.extra_index_urls),
        find_links=tuple(parsed.find_links),
        requirement_files=tuple(parsed.files),
        span=span,
    )
