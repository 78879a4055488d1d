"""envlock.probe.elf on real files: the torch wheel's libtorch_cuda.so, system libraries."""

from __future__ import annotations

import glob
import subprocess
from pathlib import Path

import pytest

from envlock.probe.elf import search_path_kind
from tests.conftest import VENV_ROOT, need


def _readelf(path: str) -> str | None:
    try:
        out = subprocess.run(["readelf", "-d", path], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    if "(RUNPATH)" in out.stdout:
        return "runpath"
    return "rpath" if "(RPATH)" in out.stdout else "none"


@pytest.mark.venv
def test_the_cuda_wheel_carries_rpath() -> None:
    libs = glob.glob(str(VENV_ROOT / "torch-cuda/lib/python3*/site-packages/torch/lib"))
    need(bool(libs), "the torch-cuda venv is missing")
    assert search_path_kind(str(Path(libs[0]) / "libtorch_cuda.so")) == "rpath"


def test_agrees_with_readelf_on_system_libraries() -> None:
    libs = sorted(glob.glob("/usr/lib/x86_64-linux-gnu/*.so*"))
    files = [*libs[:200], *glob.glob("/usr/lib/x86_64-linux-gnu/libLLVM*.so*")[:1], "/bin/ls"]
    checked = {}
    for f in files:
        want = _readelf(f)
        if want is None:
            continue
        assert search_path_kind(f) == want, f
        checked[want] = f
    assert checked, "readelf or system libraries missing"


def test_not_elf(tmp_path: Path) -> None:
    p = tmp_path / "x.so"
    p.write_bytes(b"not an elf file" * 10)
    assert search_path_kind(str(p)) is None
    assert search_path_kind(str(tmp_path / "missing.so")) is None
