"""envlock.probe.elf on real files: the torch wheel's libtorch_cuda.so, system libraries."""

from __future__ import annotations

import glob
import os
import subprocess
import sys
from pathlib import Path

import pytest

from envlock.probe.elf import search_path_kind
from tests.conftest import REPO, VENV_ROOT, clean_env, need


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


def test_a_fifo_named_like_the_library_does_not_block(tmp_path: Path) -> None:
    fifo = tmp_path / "libtorch_cuda.so"
    os.mkfifo(fifo)
    code = f"from envlock.probe.elf import search_path_kind; print(search_path_kind({str(fifo)!r}))"
    try:
        proc = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            timeout=30,
            env=clean_env(),
            cwd=REPO,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("search_path_kind blocked on a FIFO")
    assert proc.stdout.strip() == "None", proc.stderr


def test_a_huge_program_header_table_is_not_read(tmp_path: Path) -> None:
    """2,000 program headers of 65,535 bytes each (131 MB, sparse): before, read whole."""
    import struct
    import tracemalloc

    p = tmp_path / "x.so"
    header = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    header += struct.pack("<HHIQQQIHHHHHH", 3, 62, 1, 0, 64, 0, 0, 64, 65535, 2000, 64, 0, 0)
    p.write_bytes(header)
    os.truncate(p, 64 + 65535 * 2000)
    tracemalloc.start()
    try:
        assert search_path_kind(str(p)) is None
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20, peak


@pytest.mark.parametrize("where", ["program headers", "dynamic segment"])
def test_an_offset_past_2_to_the_63_is_not_elf_not_a_crash(tmp_path: Path, where: str) -> None:
    """seek() refuses offsets >= 2**63 with ValueError: once exit 4 from the probe."""
    import struct

    p = tmp_path / "x.so"
    huge = 1 << 63
    phoff = huge if where == "program headers" else 64
    header = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    header += struct.pack("<HHIQQQIHHHHHH", 3, 62, 1, 0, phoff, 0, 0, 64, 56, 1, 64, 0, 0)
    # one PT_DYNAMIC (type 2) entry whose file offset is 2**63
    entry = struct.pack("<IIQQQQQQ", 2, 0, huge, 0, 0, 16, 16, 8)
    p.write_bytes(header + entry)
    assert search_path_kind(str(p)) is None
