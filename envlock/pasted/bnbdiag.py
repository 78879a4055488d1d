"""`python -m bitsandbytes` (bitsandbytes/diagnostics/main.py, since 0.46, 2025) as pasted into
issue threads:

    =================== bitsandbytes v0.46.0 ===================
    Platform: Linux-6.8.0-57-generic-x86_64-with-glibc2.39
      libc: glibc-2.39
    Python: 3.12.3
    PyTorch: 2.7.0+cu126
      CUDA: 12.6                      (torch.version.cuda or "N/A")
      HIP: N/A                        (torch.version.hip or "N/A")
      XPU: N/A
    Related packages:
      accelerate: 1.7.0
    ...
    PyTorch settings found: CUDA_VERSION=126, Highest Compute Capability: (8, 6).

"PyTorch settings found: CUDA_VERSION=..." is printed only from get_cuda_specs(), which is None
unless torch.cuda.is_available(): CUDA is available. "No CUDA, ROCm, or XPU detected; CPU
library ..." is printed where torch has no HIP, no usable CUDA and no XPU: CUDA is not
available. Read only under the report's own "bitsandbytes v..." header; older releases
(0.43-0.45: "CUDA specs: CUDASpecs(...)") print no torch version and are not read.
"""

from __future__ import annotations

import re

from envlock.pasted.toolreading import TORCH_VERSION, ToolReading

# the header; the layout step may have joined the next line to it
_HEADER = re.compile(r"(?m)^=+ bitsandbytes v\d[\w.+-]* =+")
_FIELDS = (
    ("PyTorch version", re.compile(rf"^PyTorch: ({TORCH_VERSION})[ \t]*$")),
    ("Python version", re.compile(r"^Python: (\d+\.\d+\.\d+)[ \t]*$")),
    ("CUDA used to build PyTorch", re.compile(r"^[ \t]+CUDA: (\d{1,2}\.\d{1,2})[ \t]*$")),
    ("ROCM used to build PyTorch", re.compile(r"^[ \t]+HIP: (\d+\.\d+)\.\d+[\w.-]*[ \t]*$")),
)
_CUDA_SPECS = re.compile(r"^PyTorch settings found: CUDA_VERSION=\d{2,3}, ")
_NO_GPU = "No CUDA, ROCm, or XPU detected"


def read_bnb_diagnostics(text: str) -> ToolReading | None:
    """torch, its build and CUDA's availability from `python -m bitsandbytes`; None without
    its header and torch's line."""
    header = _HEADER.search(text) if "bitsandbytes v" in text else None
    if header is None:
        return None
    out = ToolReading()
    for line in text[header.end() :].split("\n"):
        for key, pattern in _FIELDS:
            m = pattern.match(line)
            if m:
                out.put(key, m.group(1))
        if _CUDA_SPECS.match(line):
            out.put("Is CUDA available", "True")
        elif line.startswith(_NO_GPU):
            out.put("Is CUDA available", "False")
    if "PyTorch version" not in out.fields:
        return None
    out.notes.append("bitsandbytes' diagnostics ('python -m bitsandbytes'): read")
    return out
