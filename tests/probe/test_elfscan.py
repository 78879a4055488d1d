"""The pure-Python ELF/fatbin reader against NVIDIA's cuobjdump on real binaries, and on
crafted bad input (a partial note, never an exception)."""

from __future__ import annotations

import collections
import random
import re
import struct
from pathlib import Path

import pytest

from envlock.probe import elfscan, extensions
from tests.ext_assets import (
    NVCC_TARGETS,
    cuobjdump_targets,
    nvcc_extension,
    torchvision_dir,
)


def _reader_targets(path: Path) -> tuple[list[str], list[str]]:
    fh, elf = elfscan.open_elf(str(path))
    with fh:
        sass, ptx, notes = elf.fatbin_targets()
    assert notes == []
    return sass, ptx


def _same(a: list[str], b: list[str]) -> bool:
    return collections.Counter(a) == collections.Counter(b)


@pytest.mark.parametrize("name", sorted(NVCC_TARGETS))
def test_nvcc_built_extension_reports_exactly_its_targets(name: str) -> None:
    path = nvcc_extension(name)
    _flags, want_sass, want_ptx = NVCC_TARGETS[name]
    sass, ptx = _reader_targets(path)
    assert sorted(set(sass)) == want_sass and sorted(set(ptx)) == want_ptx
    ref_sass, ref_ptx = cuobjdump_targets(path)
    assert _same(sass, ref_sass) and _same(ptx, ref_ptx)
    entry = extensions.scan_file(str(path), None)
    assert entry["sass"] == want_sass and entry["ptx"] == want_ptx
    assert entry["cuda_major"] == 13 and entry["links"] == ["libcudart.so.13"]
    assert entry["partial"] is None and entry["sha256"].startswith("sha256:")


@pytest.mark.parametrize(
    ("version", "file"),
    [("0.29.1", "torchvision/_C_stable.so"), ("0.28.0", "torchvision/_C.so")],
)
def test_real_torchvision_wheel_equals_cuobjdump(version: str, file: str) -> None:
    path = torchvision_dir(version) / file
    sass, ptx = _reader_targets(path)
    ref_sass, ref_ptx = cuobjdump_targets(path)
    assert sass and _same(sass, ref_sass) and _same(ptx, ref_ptx)
    if version == "0.29.1":  # the description of this wheel
        assert sorted(set(sass), key=lambda t: int(t[3:])) == [
            "sm_75",
            "sm_80",
            "sm_86",
            "sm_90",
            "sm_100",
            "sm_120",
        ]
        assert set(ptx) == {"compute_120"}


def test_torch_libtorch_cuda_equals_cuobjdump(cuda_python: Path) -> None:
    """2,975 cubins in a 500 MB library, sm_90a/sm_100a variants among them."""
    lib = next(cuda_python.parent.parent.glob("lib/python3*/site-packages/torch/lib"))
    path = lib / "libtorch_cuda.so"
    sass, ptx = _reader_targets(path)
    ref_sass, ref_ptx = cuobjdump_targets(path)
    assert len(sass) > 1000 and any(t.endswith("a") for t in sass)
    assert _same(sass, ref_sass) and _same(ptx, ref_ptx)


def test_gnu_hash_lookup_agrees_with_the_symbol_table(cpu_python: Path) -> None:
    lib = next(cpu_python.parent.parent.glob("lib/python3*/site-packages/torch/lib/libc10.so"))
    fh, elf = elfscan.open_elf(str(lib))
    with fh:
        table = elf.exports()
        assert table is not None
        defined = elf.defined_symbols()
        assert len(defined) > 500
        assert all(table.has(name) for name in defined)
        assert not any(table.has(name + "_envlock_absent") for name in sorted(defined)[:200])
        assert not table.has("_ZN3c104cuda29c10_cuda_check_implementationEiPKcS2_jb")


# ------------------------------------------------------------ crafted bad input
def _elf64(sections: list[tuple[str, int, int, bytes]]) -> bytes:
    """A minimal little-endian ELF64 with these (name, type, flags, payload) sections."""
    names = b"\0" + b"".join(n.encode() + b"\0" for n, *_ in sections) + b".shstrtab\0"
    body = bytearray(b"\0" * 64)
    offsets = []
    for _n, _t, _f, payload in sections:
        while len(body) % 8:
            body.append(0)
        offsets.append(len(body))
        body += payload
    shstr_off = len(body)
    body += names
    while len(body) % 8:
        body.append(0)
    shoff = len(body)
    headers = [b"\0" * 64]
    pos = 1
    for (name, type_, flags, payload), off in zip(sections, offsets, strict=True):
        headers.append(
            struct.pack("<IIQQQQIIQQ", pos, type_, flags, 0, off, len(payload), 0, 0, 8, 0)
        )
        pos += len(name) + 1
    headers.append(struct.pack("<IIQQQQIIQQ", pos, 3, 0, 0, shstr_off, len(names), 0, 0, 1, 0))
    body += b"".join(headers)
    ident = b"\x7fELF" + bytes([2, 1, 1]) + b"\0" * 9
    header = ident + struct.pack(
        "<HHIQQQIHHHHHH", 3, 62, 1, 0, 0, shoff, 0, 64, 0, 0, 64, len(headers), len(headers) - 1
    )
    body[:64] = header
    return bytes(body)


def _fatbin(version: int = 1, entries: tuple[tuple[int, int], ...] = ((2, 90),)) -> bytes:
    blob = b""
    for kind, arch in entries:
        head = struct.pack("<HHIQIIHHI", kind, 0x101, 64, 16, 0, 0, 0, 0, arch)
        head += b"\0" * (64 - len(head))
        blob += head + b"\0" * 16
    return struct.pack("<IHHQ", elfscan.FATBIN_MAGIC, version, 16, len(blob)) + blob


def _read(tmp_path: Path, data: bytes) -> dict[str, object]:
    p = tmp_path / "ext.so"
    p.write_bytes(data)
    return elfscan.read_gpu_code(str(p))


def test_crafted_fatbin_is_read(tmp_path: Path) -> None:
    out = _read(tmp_path, _elf64([(".nv_fatbin", 1, 2, _fatbin(entries=((2, 90), (1, 90))))]))
    assert out == {"sass": ["sm_90"], "ptx": ["compute_90"], "needed": [], "partial": None}


@pytest.mark.parametrize(
    ("data", "note"),
    [
        (b"", "not an ELF file"),
        (b"\x7fELF\x02", "outside the file"),
        (b"short", "not an ELF file"),
        (b"not an elf at all, just text\n" * 4, "not an ELF file"),
        (_elf64([(".nv_fatbin", 1, 2, _fatbin(version=7))]), "unknown version 7"),
        (_elf64([(".nv_fatbin", 1, 2 | 0x800, _fatbin())]), "compressed"),
        (_elf64([(".nv_fatbin", 1, 2, b"\x11" * 64)]), "no fatbin header"),
    ],
    ids=[
        "empty",
        "truncated-ident",
        "short",
        "not-elf",
        "unknown-version",
        "compressed-section",
        "garbage",
    ],
)
def test_bad_input_is_a_partial_note(tmp_path: Path, data: bytes, note: str) -> None:
    out = _read(tmp_path, data)
    assert isinstance(out["partial"], str) and note in out["partial"]


def test_huge_claimed_sizes_are_refused_without_reading(tmp_path: Path) -> None:
    good = _elf64([(".nv_fatbin", 1, 2, _fatbin())])
    # the fatbin header claims 2**60 bytes of entries; the section header 2**40 bytes
    huge = bytearray(good)
    start = good.index(struct.pack("<I", elfscan.FATBIN_MAGIC))
    huge[start + 8 : start + 16] = struct.pack("<Q", 1 << 60)
    assert "overruns" in str(_read(tmp_path, bytes(huge))["partial"])
    # a section table of 65,535 entries that the file does not hold
    many = bytearray(good)
    many[0x3C:0x3E] = struct.pack("<H", 0xFFFE)
    assert "outside the file" in str(_read(tmp_path, bytes(many))["partial"])


def test_truncated_and_mutated_real_extension_never_raises(tmp_path: Path) -> None:
    data = nvcc_extension("sm90-ptx90").read_bytes()
    rng = random.Random(14)
    cuts = sorted({0, 3, 16, 63, 64, *(rng.randrange(len(data)) for _ in range(40))})
    for cut in cuts:
        out = _read(tmp_path, data[:cut])
        assert out["partial"], cut
        entry = extensions.scan_file(str(tmp_path / "ext.so"), None)
        assert isinstance(entry, dict)
    for _ in range(60):
        mutated = bytearray(data)
        for _ in range(8):
            mutated[rng.randrange(len(data))] = rng.randrange(256)
        _read(tmp_path, bytes(mutated))  # any outcome but an exception
        extensions.scan_file(str(tmp_path / "ext.so"), None)


def test_a_vendored_cudart_names_its_major() -> None:
    assert re.match(extensions._CUDART, "libcudart.faf08d9a.so.13").group(1) == "13"  # type: ignore[union-attr]
    assert re.match(extensions._CUDART, "libcudart-d0da41ae.so.11.0").group(1) == "11"  # type: ignore[union-attr]
    assert re.match(extensions._CUDART, "libcudart.so.12").group(1) == "12"  # type: ignore[union-attr]
