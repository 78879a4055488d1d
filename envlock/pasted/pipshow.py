"""`pip show` (and `uv pip show`) output pasted into a report, read as the versions it states
(issue 21).

pip's show command (src/pip/_internal/commands/show.py, every release since 2014) prints one
block a package, in mail-header form, blocks apart by a "---" line:

    Name: torch
    Version: 2.0.1
    Summary: Tensors and Dynamic neural networks in Python with strong GPU acceleration
    Home-page: https://pytorch.org/
    ...
    Location: /home/x/.local/lib/python3.11/site-packages
    Requires: filelock, jinja2, networkx, nvidia-cublas-cu11, ..., sympy, triton
    Required-by: torchvision, xformers

"Name" and "Version" are always its first two lines; Summary, Home-page, Author, Author-email,
License (License-Expression in pip 25), Location, Editable project location, Requires and
Required-by follow; `-v` adds Metadata-Version, Installer, Classifiers, Entry-points and
Project-URLs, `-f` the installed files, each indented under its heading. `uv pip show` prints
Name, Version, Location, Requires and Required-by. A block is read only from its "Name:" line
followed by its "Version:" line; Location and Requires only up to the block's end (a blank
line, "---", the next "Name:").

What Requires says of torch's build: PyPI's Linux wheels of torch 2.x pull NVIDIA's runtime
wheels, named for their CUDA major (`nvidia-cublas-cu11`, `nvidia-cudnn-cu12`): a CUDA build
of that major. Its version is untagged there (PyPI's default variant); the matrix names which
CUDA that default is (2.0.1: cu117), taken only where its major is the one the wheels name.
No nvidia-* wheel says nothing: torch 1.x bundled its CUDA libraries, and a CPU wheel, a
Jetson's or a conda build look the same.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# a line's start: indentation, and a list's bullet where the paste made each line one
_LEAD = r"^[ \t]{0,8}(?:[-*+][ \t]{1,4})?"
_NAME = re.compile(_LEAD + r"Name:[ \t]*([A-Za-z0-9][\w.-]{0,80})[ \t]*$")
_VERSION = re.compile(_LEAD + r"Version:[ \t]*(\S{1,80})[ \t]*$")
_FIELD = re.compile(_LEAD + r"(Location|Requires):")
_NVIDIA_WHEEL = re.compile(r"^nvidia-[a-z0-9-]{1,40}-cu(\d{2})$")
# lines a block may hold: pip's fields, and the indented lists of -v and -f
_MAX_BLOCK_LINES = 200_000


@dataclass(frozen=True)
class Shown:
    """One package's block: its version, where it is installed, what it requires."""

    version: str
    location: str | None
    requires: tuple[str, ...]


def read_show(text: str) -> dict[str, Shown]:
    """Each package `pip show` printed, by its lower-case name (the last block of a name wins:
    pip's output is in order)."""
    lines = text.split("\n")
    shown: dict[str, Shown] = {}
    at = 0
    while at < len(lines) - 1:
        name = _NAME.match(lines[at]) if "Name:" in lines[at] else None
        version = _VERSION.match(lines[at + 1]) if name else None
        if name is None or version is None:
            at += 1
            continue
        fields, at = _block(lines, at + 2)
        shown[name.group(1).lower()] = Shown(
            version.group(1),
            fields.get("Location") or None,
            tuple(r.strip() for r in fields.get("Requires", "").split(",") if r.strip()),
        )
    return shown


def _block(lines: list[str], start: int) -> tuple[dict[str, str], int]:
    """Location and Requires of the block from `start` up to its end; where the next one may
    start."""
    fields: dict[str, str] = {}
    at = start
    while at < len(lines) and at - start < _MAX_BLOCK_LINES:
        line = lines[at]
        if not line.strip() or line.strip(" \t-*") == "" or ("Name:" in line and _NAME.match(line)):
            break
        m = _FIELD.match(line) if "Location:" in line or "Requires:" in line else None
        if m:
            fields.setdefault(m.group(1), line[m.end() :].strip())
        at += 1
    return fields, at


def cuda_major_required(requires: tuple[str, ...]) -> int | None:
    """The CUDA major of the NVIDIA runtime wheels a package requires, where they name one."""
    majors = {int(m.group(1)) for m in (_NVIDIA_WHEEL.match(r.lower()) for r in requires) if m}
    return majors.pop() if len(majors) == 1 else None


def pypi_cuda(torch: str, requires: tuple[str, ...]) -> str | None:
    """torch's CUDA ("11.7") where an untagged release requires one CUDA major's NVIDIA
    wheels and the matrix's default variant of its release is of that major; else None."""
    from envlock.matrix import Version, load_matrix
    from envlock.matrix.builds import is_released

    major = cuda_major_required(requires)
    v = Version.of(torch)
    if major is None or v is None or "+" in torch or not is_released(torch):
        return None
    release = load_matrix().torch_release(v)
    variant = release.variant(release.default_variant) if release else None
    if variant is None or variant.cuda is None or variant.cuda.major != major:
        return None
    return f"{variant.cuda.major}.{variant.cuda.minor}"
