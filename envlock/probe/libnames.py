"""The one list of CUDA-family shared libraries envlock looks for, and of the CPU ISA
features it reports: constants, no I/O.

Stdlib only (it is part of the probe, shipped into containers) and free of
subprocess or file access, so the pure layers (checks) can import it too.
"""

from __future__ import annotations

import os
import re

__all__ = ["CUDA_LIBRARY_PREFIXES", "DRIVER_LIBRARY_PREFIXES", "ISA_FLAGS", "is_cuda_library"]

# The one list of CUDA-family libraries envlock looks for (file names start with one of
# these). The driver installs the first two with its kernel module; the others ship in
# nvidia-* wheels and CUDA toolkits. probe/_torch_child.py keeps a copy (it runs with -c
# and imports nothing of envlock); tests/probe/test_cuda_library_prefixes.py holds it equal.
DRIVER_LIBRARY_PREFIXES = ("libcuda.so", "libnvidia-ml")
CUDA_LIBRARY_PREFIXES = (
    *DRIVER_LIBRARY_PREFIXES,
    "libcudart",
    "libcudnn",
    "libnccl",
    "libcublas",
    "libcusparse",
    "libcufft",
    "libcurand",
    "libcusolver",
    "libnvJitLink",
    "libnvrtc",
    "libcupti",
)
_SO_RE = re.compile(r"\.so(\.\d+)*$")


def is_cuda_library(filename: str) -> bool:
    """True for the shared libraries whose version skew breaks torch (cuDNN, NCCL, cuBLAS...)."""
    base = os.path.basename(filename)
    return base.startswith(CUDA_LIBRARY_PREFIXES) and bool(_SO_RE.search(base))


# The CPU features that decide which kernels run: the probe (probe/toolchain.py) and
# pasted reports (pasted/collect_env.py) read the same list.
# (x86 /proc/cpuinfo "flags", Arm "Features")
ISA_FLAGS = (
    "sse4_2",
    "avx",
    "avx2",
    "fma",
    "f16c",
    "avx512f",
    "avx512bw",
    "avx512vl",
    "avx512_vnni",
    "avx512_bf16",
    "avx512_fp16",
    "amx_tile",
    "amx_bf16",
    "amx_int8",
    "asimd",
    "asimdhp",
    "sve",
    "sve2",
    "bf16",
    "i8mm",
)
