"""The one list of CUDA-family shared libraries envlock looks for, the decoding of their
packed version numbers and of the driver's in its texts, and the CPU ISA features it
reports: constants, no I/O. No re at import (a served probe imports none): the two
version texts import it when there is one to read, and library names are matched by hand.

Stdlib only (it is part of the probe, shipped into containers, and served to the
torch child and the determinism suite) and free of subprocess or file access, so
the pure layers (checks, pasted) can import it too.
"""

from __future__ import annotations

import os

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
    "has_so_suffix",
    "is_cuda_library",
    "library_version_from_path",
    "parse_nvrm_version",
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


def is_cuda_library(filename: str) -> bool:
    """True for the shared libraries whose version skew breaks torch (cuDNN, NCCL, cuBLAS...)."""
    base = os.path.basename(filename)
    return base.startswith(CUDA_LIBRARY_PREFIXES) and has_so_suffix(base)


def has_so_suffix(name: str) -> bool:
    r"""Whether re.search(r"\.so(\.\d+)*$", name) finds a shared object's ending (libx.so,
    libx.so.13.0), without re: \d is str.isdecimal(), and $ also matches before a last
    newline."""
    if name.endswith("\n") and _so_ending(name[:-1]):
        return True
    return _so_ending(name)


def _so_ending(name: str) -> bool:
    while not name.endswith(".so"):
        head, dot, number = name.rpartition(".")
        if not dot or not number.isdecimal():
            return False
        name = head
    return True


def decode_cuda_version(value: Any) -> str | None:
    """1000*major + 10*minor (NVML, cuDriverGetVersion, cudart) -> "major.minor"; 0 -> None."""
    try:
        v = int(value)
    except (TypeError, ValueError):
        return None
    if v <= 0:
        return None
    return f"{v // 1000}.{(v % 1000) // 10}"


def parse_nvrm_version(text: str) -> str | None:
    # "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.65.06  Release Build ..."
    for line in text.splitlines():
        if line.startswith("NVRM version:"):
            import re  # here: a probe that finds no NVIDIA driver imports no re

            m = re.search(r"Kernel Module.*?\s(\d+\.\d+(?:\.\d+)?)(?=\s|$)", line)
            if m:
                return m.group(1)
    return None


def library_version_from_path(path: str | None) -> str | None:
    """libnvidia-ml.so.580.65.06 -> "580.65.06" (the symlink target carries the version)."""
    if not path:
        return None
    import re

    m = re.search(r"libnvidia-ml\.so\.(\d+\.\d+(?:\.\d+)?)$", os.path.basename(path))
    return m.group(1) if m else None


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
