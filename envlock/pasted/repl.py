"""What a Python session printed about torch, read as the collect_env lines it states.

People paste their interpreter instead of a report: the REPL's banner ("Python 3.8.12 |
packaged by conda-forge | (default, ...)" then "[GCC 9.4.0] on linux"), torch's version and
CUDA as printed (`torch.__version__: '2.0.1+cu118'`, `torch.__version__ = 2.0.1+cu117`,
`>>> torch.version.cuda` and its value on the next line) and the repr of
`torch.cuda.get_device_properties(i)` (torch/csrc/cuda/Module.cpp's
"_CudaDeviceProperties(name='Tesla V100-DGXS-32GB', major=7, minor=0, total_memory=...)":
the GPU's name and compute capability). A value is read only where it is printed, never
from code that compares it (`torch.__version__ >= "1.10"`). Each pattern starts with a
literal found with str.find and matches a bounded run from there: linear in the text.
"""

from __future__ import annotations

import re

from envlock.pasted.toolreading import TORCH_VERSION, ToolReading

_TORCH_VERSION = "torch.__version__"
_TORCH_CUDA = "torch.version.cuda"
# after the expression: a closing parenthesis (print's), then ':', '=' (not '=='), '->' or
# nothing, then the value, quoted or not, ending the line
_SEPARATOR = r"\)?[ \t]{0,4}(?::|=(?!=)|->)?[ \t]{0,4}"
_VERSION_VALUE = re.compile(_SEPARATOR + rf"(['\"]?)({TORCH_VERSION})\1(?=[\s,;]|$)")
_CUDA_VALUE = re.compile(_SEPARATOR + r"(['\"]?)(\d{1,2}\.\d{1,2}|None)\1(?=[\s,;]|$)")
# the expression alone on its line (a REPL's `>>> torch.__version__`, `print(...)`): the
# value is the next line, quoted or not
_BARE_REST = re.compile(r"\)?[ \t]{0,4}$")
_BARE_VERSION = re.compile(rf"[ \t]{{0,4}}(['\"]?)({TORCH_VERSION})\1[ \t]{{0,4}}$")
_BARE_CUDA = re.compile(r"[ \t]{0,4}(['\"]?)(\d{1,2}\.\d{1,2}|None)\1[ \t]{0,4}$")

_DEVICE = "CudaDeviceProperties(name="
_DEVICE_TAIL = re.compile(r"""(['"])([^'"\n]{1,120})\1, major=(\d{1,2}), minor=(\d{1,2})""")

# the interactive interpreter's banner: "Python 3.8.12 | packaged by conda-forge | (default,
# Jan 30 2022, 23:42:07)" and "[GCC 9.4.0] on linux" (one line on Windows: "Python 3.10.6
# (tags/v3.10.6:9c7b4bd, Aug  1 2022, 21:53:49) [MSC v.1932 64 bit (AMD64)] on win32")
_BANNER = re.compile(r"Python (\d{1,2}\.\d{1,2}\.\d{1,3})([^\n\[\]]{0,200})$")
_PYTHON = "Python "
_BANNER_BUILD = re.compile(
    r"[ \t]{0,4}(?:[*>-][ \t]{1,4})?(\[(?:GCC|MSC|Clang)[^\]\n]{0,120}\]) on (?:linux|win32)(?!\w)"
)


# what may stand before the banner on its line: a quote's or a list's marker, a prompt
_BEFORE = " \t>*-$"


def read_repl(text: str) -> ToolReading | None:
    """The collect_env lines a Python session's prints state (torch's version and CUDA, the
    interpreter, the GPUs' names and compute capabilities); None where it printed none."""
    lines = text.split("\n")
    out = ToolReading()
    out.put("PyTorch version", _printed(lines, _TORCH_VERSION, _VERSION_VALUE, _BARE_VERSION))
    out.put("CUDA used to build PyTorch", _printed(lines, _TORCH_CUDA, _CUDA_VALUE, _BARE_CUDA))
    out.put("Python version", _banner(lines))
    for name, capability in _devices(text):
        index = len(out.gpus)
        out.gpus[index] = name
        out.capabilities[index] = capability
    if not out.fields and not out.gpus:
        return None
    out.notes.append("what a Python session printed about torch (its prints, not a report): read")
    return out


def _printed(
    lines: list[str], expression: str, same_line: re.Pattern[str], next_line: re.Pattern[str]
) -> str | None:
    """The value printed for `expression`: on its line after it, or alone on the next line
    where the expression stood alone (a REPL's echo)."""
    for i, line in enumerate(lines):
        at = line.find(expression)
        if at < 0:
            continue
        end = at + len(expression)
        m = same_line.match(line, end)
        if m:
            return m.group(2)
        if _BARE_REST.match(line, end) and i + 1 < len(lines):
            m = next_line.match(lines[i + 1])
            if m:
                return m.group(2)
    return None


def _devices(text: str) -> list[tuple[str, str]]:
    """(name, "7.0") of each distinct device whose properties were printed, in order."""
    found: list[tuple[str, str]] = []
    at = text.find(_DEVICE)
    while at >= 0 and len(found) < 64:
        m = _DEVICE_TAIL.match(text, at + len(_DEVICE))
        if m:
            device = (m.group(2).strip(), f"{int(m.group(3))}.{int(m.group(4))}")
            if device[0] and device not in found:
                found.append(device)
        at = text.find(_DEVICE, at + 1)
    return found


def _banner(lines: list[str]) -> str | None:
    """ "3.8.12 | packaged by conda-forge | (...) [GCC 9.4.0]" of the REPL's banner: the
    version, its build line and its compiler, as collect_env's Python line holds them."""
    for i, line in enumerate(lines):
        at = line.find(_PYTHON)
        if at < 0:
            continue
        if line[:at].strip(_BEFORE):  # a flattened paste: the banner mid-line, its build after
            found = _banner_in(line, at)
            if found:
                return found
            continue
        head, _, build = line[at:].partition("[")
        m = _BANNER.match(head.rstrip())
        tail = f"[{build}" if build else (lines[i + 1] if i + 1 < len(lines) else "")
        compiler = _BANNER_BUILD.match(tail) if m else None
        if m and compiler:
            return f"{m.group(1)}{m.group(2).rstrip()} {compiler.group(1)}"
    return None


def _banner_in(line: str, at: int) -> str | None:
    """The banner where a paste's lines were joined into one: "Python X.Y.Z ..." and its
    "[GCC ...] on linux" after at most 200 characters, each "Python " tried once."""
    while at >= 0:
        bracket = line.find("[", at, at + 220)
        m = _BANNER.match(line[at:bracket].rstrip()) if bracket > 0 else None
        compiler = _BANNER_BUILD.match(line, bracket) if m else None
        if m and compiler:
            return f"{m.group(1)}{m.group(2).rstrip()} {compiler.group(1)}"
        at = line.find(_PYTHON, at + 1)
    return None
