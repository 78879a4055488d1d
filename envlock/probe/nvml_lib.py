"""Whether NVML can be asked at all, known without importing pynvml (probe/nvml.py)."""

from __future__ import annotations

import sys


def no_library() -> bool:
    """True when pynvml's nvmlInit could only fail with LIBRARY_NOT_FOUND: the dlopen of
    libnvidia-ml.so.1 it does (Linux) fails here, so importing it (50-130 ms) is skipped.
    An imported pynvml (or a fake in its place) is asked as before."""
    if not sys.platform.startswith("linux") or "pynvml" in sys.modules:
        return False
    import importlib.util

    try:
        # ctypes.CDLL's own call (_ctypes.dlopen, RTLD_LOCAL; RTLD_NOW is added in C)
        # without the ctypes package: ~3 ms of a warm verify on a machine without the
        # library, where nothing else needs ctypes (pynvml imports it where there is one)
        from _ctypes import RTLD_LOCAL, dlopen

        dlopen("libnvidia-ml.so.1", RTLD_LOCAL)
    except ImportError:  # no _ctypes in this interpreter: pynvml says what it can
        return False
    except OSError:  # pynvml not installed: query_nvml says so
        return importlib.util.find_spec("pynvml") is not None
    return False
