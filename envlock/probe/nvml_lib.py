"""Whether NVML can be asked at all, known without importing pynvml (probe/nvml.py)."""

from __future__ import annotations

import sys


def no_library() -> bool:
    """True when pynvml's nvmlInit could only fail with LIBRARY_NOT_FOUND: the dlopen of
    libnvidia-ml.so.1 it does (Linux) fails here, so importing it (50-130 ms) is skipped.
    An imported pynvml (or a fake in its place) is asked as before."""
    if not sys.platform.startswith("linux") or "pynvml" in sys.modules:
        return False
    try:
        # ctypes.CDLL's own call (_ctypes.dlopen, RTLD_LOCAL; RTLD_NOW is added in C)
        # without the ctypes package: ~3 ms of a warm verify on a machine without the
        # library, where nothing else needs ctypes (pynvml imports it where there is one)
        from _ctypes import RTLD_LOCAL, dlopen

        dlopen("libnvidia-ml.so.1", RTLD_LOCAL)
    except ImportError:  # no _ctypes in this interpreter: pynvml says what it can
        return False
    except OSError:  # pynvml not installed: query_nvml says so
        return _findable("pynvml")
    return False


def _findable(name: str) -> bool:
    """importlib.util.find_spec(name) is not None, for a top-level module not imported:
    what the import system's finders say (a served probe's own, which may serve pynvml,
    first), without importlib.util, which imports contextlib, functools and collections
    (~3 ms of a fresh container)."""
    for finder in sys.meta_path:
        # a legacy finder (before 3.12) may have find_module only
        find = getattr(finder, "find_spec", None) or getattr(finder, "find_module", None)
        if find is not None and find(name, None) is not None:
            return True
    return False
