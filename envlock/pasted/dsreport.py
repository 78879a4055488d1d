"""DeepSpeed's `ds_report` (deepspeed/env_report.py debug_report) as pasted into issue threads.

After the op table it prints "DeepSpeed general environment info:" and one dotted line a field:

    torch install path ............... ['/usr/local/lib/python3.10/dist-packages/torch']
    torch version .................... 2.3.0+cu121                (torch.__version__)
    deepspeed info ................... 0.15.5+46d7d0d1, 46d7d0d1, master
    torch cuda version ............... 12.1                       (torch.version.cuda)
    torch hip version ................ None                       (torch.version.hip)
    nvcc version ..................... 12.0                       (CUDA_HOME's nvcc release)
    deepspeed wheel compiled w. ...... torch 2.3, cuda 12.1
    shared memory (/dev/shm) size .... 125.77 GB

(the same since DeepSpeed 0.3.10, 2020; the cuda/hip/nvcc lines only on a CUDA or ROCm
accelerator; nvcc's is "[FAIL] nvcc missing" or "[FAIL] cannot find CUDA_HOME ..." without
one). Read: torch's version, the CUDA it was built with, the toolkit's release as the CUDA
runtime version collect_env reads from nvcc too, and a ROCm build's HIP version. ds_report
prints nothing of CUDA's availability or the GPUs. Read only with torch's own line and the
report's heading or its "deepspeed info" line: "torch version ..... 2.1" alone is not enough.

"deepspeed wheel compiled w." is the torch and CUDA its ops were built with (torch_info:
"torch 2.1, cuda 12.1"; "torch 0.0, cuda 0.0" where none was). Where the op table above it
shows an op installed ("cpu_adam ...... [YES] ...... [OKAY]": prebuilt, not compiled at first
use), loading it checks that torch against the running one and refuses another release
(pasted/dscheck.py): DeepSpeed's ops become an extension built for that torch.
"""

from __future__ import annotations

import re

from envlock.pasted.dscheck import deepspeed_ops
from envlock.pasted.toolreading import TORCH_VERSION, ToolReading

# the fields read, anywhere in a line (a flattened paste's: "...site-packages/torch'] torch
# version ...... 2.3.0+cu121")
_FIELD = re.compile(
    r"(?<![a-z])(torch version|torch cuda version|torch hip version|nvcc version|deepspeed info)"
    r" \.{2,} (\S{1,80})"
)
_TORCH = re.compile(TORCH_VERSION)
_CUDA = re.compile(r"\d{1,2}\.\d{1,2}")
_HIP = re.compile(r"(\d+\.\d+)\.\d+[\w.-]*")
# ds_report's headings and a row of its tables ("torch version .... 2.3.0+cu121", the op
# table's "cpu_adam ..... [YES] ..... [OKAY]"): each starts a line of its own, which the layout
# step never joins to the line before it as a wrap's rest (pasted/line_starts.py)
HEADINGS = ("DeepSpeed C++/CUDA extension op report", "DeepSpeed general environment info")
ROW = re.compile(r"[A-Za-z][\w ()/.,+-]{0,60}? \.{2,} \S")
_MARKS = (HEADINGS[1], "deepspeed info ")
_COMPILED = re.compile(
    r"deepspeed wheel compiled w\. \.{2,} torch (\d{1,3}\.\d{1,3})(?:, cuda (\d{1,3}\.\d{1,3}))?"
)
# an op row whose "installed" column says YES (its colour codes, where kept, before it)
_INSTALLED = re.compile(r"^[ \t]*[a-z][a-z0-9_]{1,60} ?\.{2,} [^ \t]{0,12}\[YES\]")
PARTIAL = "read from DeepSpeed's ds_report in the paste, not from its files"


def read_ds_report(text: str) -> ToolReading | None:
    """torch and its CUDA from ds_report's general environment info; None without both
    torch's version line and the report's own heading or deepspeed line."""
    if not any(mark in text for mark in _MARKS):
        return None
    fields: dict[str, str] = {}
    for line in text.split("\n"):
        for m in _FIELD.finditer(line) if " .." in line else ():
            fields.setdefault(m.group(1), m.group(2))
    torch = fields.get("torch version", "")
    if not _TORCH.fullmatch(torch) or not ("deepspeed info" in fields or HEADINGS[1] in text):
        return None
    out = ToolReading()
    out.put("PyTorch version", torch)
    cuda = fields.get("torch cuda version", "")
    if _CUDA.fullmatch(cuda):
        out.put("CUDA used to build PyTorch", cuda)
    hip = _HIP.fullmatch(fields.get("torch hip version", ""))
    if hip:
        out.put("ROCM used to build PyTorch", hip.group(1))
    nvcc = fields.get("nvcc version", "")
    if _CUDA.fullmatch(nvcc):
        out.put("CUDA runtime version", nvcc)
    _prebuilt_ops(text, out)
    out.notes.append(
        "DeepSpeed's ds_report ('torch version ....', 'torch cuda version ....'): read"
    )
    return out


def _prebuilt_ops(text: str, out: ToolReading) -> None:
    """DeepSpeed's ops as an extension built for the torch "compiled w." names, where the
    op table shows one installed (prebuilt) and that torch is a release ("0.0": none)."""
    compiled = None
    installed = False
    for line in text.split("\n"):
        compiled = compiled or (_COMPILED.search(line) if "compiled w." in line else None)
        installed = installed or ("[YES]" in line and _INSTALLED.match(line) is not None)
    if compiled is None or not installed or compiled.group(1) == "0.0":
        return
    cuda = compiled.group(2)
    out.extensions.append(
        deepspeed_ops(compiled.group(1), None if cuda == "0.0" else cuda, PARTIAL)
    )
