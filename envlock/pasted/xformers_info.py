"""xFormers' load warning and `python -m xformers.info`, read as the facts they hold.

When xFormers' C++/CUDA extension does not load, it prints what the wheel was built for
beside what is installed (xformers/_cpp_lib.py):

    WARNING[XFORMERS]: xFormers can't load C++/CUDA extensions. xFormers was built for:
        PyTorch 2.2.0+cu121 with CUDA 1201 (you have 2.1.2+cu121)
        Python  3.11.7 (you have 3.11.6)

and `python -m xformers.info` prints rows such as `pytorch.version: 2.1.0+cu121`,
`pytorch.cuda: available`, `gpu.compute_capability: 8.6`, `gpu.name: NVIDIA ...`,
`build.torch_version: 2.1.0+cu121`, `build.cuda_version: 1201`. Its CUDA is written as
major * 100 + minor (1201: 12.1, 1108: 11.8; CUDA's own 12010 has five digits).

The torch installed ("you have", `pytorch.version`) is torch's version; xFormers' extension
becomes an `extensions` item with the CUDA major it was built with (1201: CUDA 12), judged
by the checks that judge the live scan's (checks/extensions.py: another CUDA major than
torch's is EL-EXT-CUDA-MAJOR; a +cpu torch beside it is EL-TORCH-CPU-ONLY's), and, where
xformers.info shows the build's TORCH_CUDA_ARCH_LIST, the GPU code it carries (SASS, and PTX
for "+PTX" items), judged on the GPU it names (EL-EXT-ARCH-UNSUPPORTED, -PTX-ONLY). A wheel built
for another torch release than the one installed is said in a note (its extension cannot
load against that torch: its C++ symbols are that release's).
"""

from __future__ import annotations

import re

from envlock.matrix.stableabi import other_abi
from envlock.pasted.hfenv import gpu_name
from envlock.pasted.toolreading import TORCH_VERSION, ToolReading
from envlock.probe.shapes import ExtensionDoc

_BUILT = re.compile(
    rf"PyTorch[ \t]+({TORCH_VERSION})[ \t]+with CUDA[ \t]+(\d{{3,5}}|None)[ \t]+"
    rf"\(you have ({TORCH_VERSION})\)"
)
_PYTHON = re.compile(r"Python[ \t]+(\d+\.\d+\.\d+)[ \t]+\(you have (\d+\.\d+\.\d+)\)")
# a row's key, at a word's start: the rows are padded to one width, so a paste's unwrapping
# may have joined several onto one line (each value then runs to the next key)
_ROW = re.compile(r"(?<!\S)([a-z_]{1,60}(?:\.[A-Za-z0-9_@+-]{1,60}){1,4}):[ \t]")
# xformers.info's first line, "xFormers 0.0.23.post1"; a paste's unwrapping may have joined it
# onto the line before (xformers-971: after DCGM's "No data will be captured.")
_XFORMERS = re.compile(r"(?<!\S)xFormers[ \t]+(\d+\.\d+\.\d+(?:\.?(?:dev|post)\d+)?)(?![\w.])")
_CAPABILITY = re.compile(r"\d{1,2}\.\d")
_ARCH_SPLIT = re.compile(r"[ ;,]+")
_ARCH_ITEM = re.compile(r"(\d{1,2})\.(\d)([af]?)(\+PTX)?", re.IGNORECASE)
_WHEEL = re.compile(r"wheel-v(\d+\.\d+\.\d+(?:\.?post\d+)?)")
PARTIAL = "read from xFormers' build information in the paste, not from its file"


def read_xformers(text: str) -> ToolReading | None:
    """xFormers' warning and info rows in `text`; None where it holds neither."""
    if "xFormers" not in text and "pytorch.version" not in text:
        return None
    rows: dict[str, str] = {}
    built: re.Match[str] | None = None
    python: re.Match[str] | None = None
    version = None
    for line in text.split("\n"):
        _rows(line, rows)
        built = built or _BUILT.search(line)
        python = python or _PYTHON.search(line)
        v = _XFORMERS.search(line)
        version = version or (v.group(1) if v else None)
    out = ToolReading()
    _installed(rows, built, python, out)
    if "PyTorch version" not in out.fields:
        return None
    # xformers.info names the wheel it came from ("wheel-v0.0.34") where no version line was pasted
    wheel = _WHEEL.fullmatch(rows.get("build.env.XFORMERS_PACKAGE_FROM", ""))
    version = version or (wheel.group(1) if wheel else None)
    for_torch = built.group(1) if built else rows.get("build.torch_version")
    cuda = built.group(2) if built else rows.get("build.cuda_version")
    _extension(for_torch, cuda, version, out)
    if out.extensions:
        _arch_list(rows.get("build.env.TORCH_CUDA_ARCH_LIST", ""), out.extensions[0])
    out.notes.append("xFormers' build information (xformers.info or its load warning): read")
    return out


def _rows(line: str, rows: dict[str, str]) -> None:
    """xformers.info's "name: value" rows in one line (one, or several joined)."""
    found = list(_ROW.finditer(line)) if ":" in line else []
    if not found:
        return
    for m, nxt in zip(found, [*found[1:], None], strict=True):
        value = line[m.end() : nxt.start() if nxt else len(line)].strip()
        if value:
            rows.setdefault(m.group(1), value[:200])


def _installed(
    rows: dict[str, str],
    built: re.Match[str] | None,
    python: re.Match[str] | None,
    out: ToolReading,
) -> None:
    """What is installed: torch ("you have", pytorch.version), Python, CUDA, the GPU."""
    out.put("PyTorch version", built.group(3) if built else None)
    torch = rows.get("pytorch.version", "")
    out.put("PyTorch version", torch if re.fullmatch(TORCH_VERSION, torch) else None)
    out.put("Python version", python.group(2) if python else None)
    available = rows.get("pytorch.cuda")
    if available in ("available", "not available"):
        out.put("Is CUDA available", "True" if available == "available" else "False")
    name = gpu_name(rows.get("gpu.name", ""))
    if name and available == "available":  # an NVIDIA GPU (a ROCm build names AMD's)
        out.gpus[0] = name
        cc = rows.get("gpu.compute_capability", "")
        if _CAPABILITY.fullmatch(cc):
            out.capabilities[0] = cc


def _extension(
    for_torch: str | None, cuda: str | None, version: str | None, out: ToolReading
) -> None:
    """xFormers' extension, with the CUDA major it was built with; a note where it was
    built for another torch release than the one installed."""
    if cuda is None or not cuda.isdigit() or len(cuda) not in (3, 4, 5):
        return  # "None": a CPU-only build of xFormers, or no build information
    ext: ExtensionDoc = {
        "distribution": "xformers",
        "file": "xformers._C",
        "cuda_major": int(cuda) // (1000 if len(cuda) == 5 else 100),
        "partial": PARTIAL,
    }
    if version:
        ext["version"] = version
    if for_torch and re.fullmatch(TORCH_VERSION, for_torch):
        ext["built_for_torch"] = for_torch  # judged by EL-EXT-TORCH-ABI (checks/extensions.py)
    out.extensions.append(ext)
    installed = out.fields["PyTorch version"]
    if for_torch and other_abi("xformers", version, for_torch, installed):
        label = f"xFormers {version}" if version else "xFormers"
        out.notes.append(
            f"{label} was built for torch {for_torch}, torch here is {installed}: its C++/CUDA "
            "extension needs that release's symbols and does not load (xFormers' warning)"
        )


def _arch_list(value: str, ext: ExtensionDoc) -> None:
    """The GPU code the wheel was built with: its build's TORCH_CUDA_ARCH_LIST ("5.0+PTX 6.0
    8.0+PTX 9.0", "8.0;8.6"); nothing where it is "None" (the builder's default, unknown)
    or any item is not an architecture."""
    sass, ptx = [], []
    for item in _ARCH_SPLIT.split(value.strip()):
        m = _ARCH_ITEM.fullmatch(item)
        if m is None:
            return
        cc = m.group(1) + m.group(2)
        sass.append(f"sm_{cc}{m.group(3).lower()}")
        if m.group(4):
            ptx.append(f"compute_{cc}")
    ext["sass"], ext["ptx"] = sass, ptx
