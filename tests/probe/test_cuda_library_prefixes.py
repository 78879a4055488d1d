"""One list of CUDA-family library prefixes (the torch child imports it, served with it)."""

from __future__ import annotations

from envlock.checks.libraries import WHEEL_LIBRARY_PREFIXES
from envlock.probe.libnames import CUDA_LIBRARY_PREFIXES, DRIVER_LIBRARY_PREFIXES, is_cuda_library


def test_wheel_libraries_are_the_list_without_the_drivers() -> None:
    assert set(WHEEL_LIBRARY_PREFIXES) == set(CUDA_LIBRARY_PREFIXES) - set(DRIVER_LIBRARY_PREFIXES)
    assert "libcudnn" in WHEEL_LIBRARY_PREFIXES and "libcuda.so" not in WHEEL_LIBRARY_PREFIXES


def test_is_cuda_library() -> None:
    for name in ("libcudnn.so.9", "libcuda.so.1", "libnvidia-ml.so.580.65.06", "libcupti.so.13"):
        assert is_cuda_library("/usr/lib/" + name), name
    for name in ("libcudadebugger.so.1", "libcudnn.so.9.txt", "libc.so.6"):
        assert not is_cuda_library(name), name
