"""The one list of CUDA-family shared libraries envlock looks for, the decoding of their
packed version numbers, and the CPU ISA features it reports: constants, no I/O.

Stdlib only (it is part of the probe, shipped into containers, and served to the
torch child and the determinism suite) and free of subprocess or file access, so
the pure layers (checks, pasted) can import it too.
"""

from __future__ import annotations

import os
import re

# typing is not imported at run time (~3 ms of every container probe).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "CUDA_LIBRARY_PREFIXES",
    "DRIVER_LIBRARY_PREFIXES",
    "ISA_FLAGS",
    "decode_cuda_version",
    "decode_cudnn",
    "decode_nccl",
    "is_cuda_library",
]

# The one list of CUDA-family libraries envlock looks for (file names start with one of
# these). The driver installs the first two with its kernel module; the others ship in
# nvidia-* wheels and CUDA toolkits.
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


def decode_cuda_version(value: Any) -> str | None:
    """1000*major + 10*minor (NVML, cuDriverGetVersion, cudart) -> "major.minor"; 0 -> None."""
    try:
        v = int(value)
    except (TypeError, ValueError):
        return None
    if v <= 0:
        return None
    return f"{v // 1000}.{(v % 1000) // 10}"


def decode_cudnn(value: Any) -> str | None:
    """torch.backends.cudnn.version(): cuDNN 9 packs major*10000 + minor*100 + patch,
    cuDNN <= 8 major*1000 + minor*100 + patch."""
    if value is None:
        return None
    v = int(value)
    if v >= 90000:
        return f"{v // 10000}.{(v % 10000) // 100}.{v % 100}"
    return f"{v // 1000}.{(v % 1000) // 100}.{v % 100}"


def decode_nccl(value: Any) -> str | None:
    """(2, 30, 7) or the packed int of older torch (NCCL >= 2.9: major*10000+minor*100+patch)."""
    if value is None:
        return None
    if isinstance(value, (tuple, list)):
        return ".".join(str(int(p)) for p in value[:3])
    v = int(value)
    if v >= 20900:
        return f"{v // 10000}.{(v % 10000) // 100}.{v % 100}"
    return f"{v // 1000}.{(v % 1000) // 100}.{v % 100}"


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
