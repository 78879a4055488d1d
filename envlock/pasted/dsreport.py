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
"""

from __future__ import annotations

import re

from envlock.pasted.toolreading import TORCH_VERSION, ToolReading

# the fields read, anywhere in a line: the layout step may have joined a long path's line
# with the next ("...site-packages/torch'] torch version ...... 2.3.0+cu121")
_FIELD = re.compile(
    r"(?<![a-z])(torch version|torch cuda version|torch hip version|nvcc version|deepspeed info)"
    r" \.{2,} (\S{1,80})"
)
_TORCH = re.compile(TORCH_VERSION)
_CUDA = re.compile(r"\d{1,2}\.\d{1,2}")
_HIP = re.compile(r"(\d+\.\d+)\.\d+[\w.-]*")
_MARKS = ("DeepSpeed general environment info", "deepspeed info ")


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
    if not _TORCH.fullmatch(torch) or not (
        "deepspeed info" in fields or "DeepSpeed general environment info" in text
    ):
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
    out.notes.append(
        "DeepSpeed's ds_report ('torch version ....', 'torch cuda version ....'): read"
    )
    return out
