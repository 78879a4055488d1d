"""The ELF reader of the extension scan and the hostlist reader fuzzed (issue 19).

ELF: real little-endian shared objects (tests/probe/elf_build.py: a fatbin, DT_NEEDED
names, undefined and exported symbols with a .gnu.hash) cut, flipped and with their
header fields, section sizes and offsets set to extreme values, scanned as an extension
and as the torch library its symbols are looked up in. Every outcome is an entry with
at most a `partial` note, never an exception, within the 2 s of CPU per example (cpubound.py).

Hostlists: lists drawn from Slurm's grammar (prefixes, padded ranges, several brackets,
ranges side by side, repeats) and random text over its alphabet. Each is a Hostlist
whose count, membership and missing hosts equal the plain expansion's, or one short
UsageError line; compress_hostlist of any names reads back as those names.
"""

from __future__ import annotations

import os
import re
import struct
import tempfile
from functools import cache
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from envlock.errors import UsageError
from envlock.hostlist import Hostlist, compress_hostlist, parse_hostlist
from envlock.probe import elfscan, extensions
from tests.fleet.nodes import expand_hostlist
from tests.fuzz.test_fuzz import EXAMPLES, FUZZ
from tests.probe.elf_build import fatbin, shared_object

pytestmark = pytest.mark.fuzz

# each ELF example writes two files and scans them: a third of the suite's count
ELF_FUZZ = settings(FUZZ, deadline=None, max_examples=max(50, EXAMPLES // 3))
HOSTLIST_FUZZ = settings(FUZZ, deadline=None, max_examples=max(50, EXAMPLES // 5))

_DIR = Path(tempfile.mkdtemp(prefix="envlock-binary-fuzz-"))
TORCH_SYMBOLS = ["_ZN3c104failEv", "_ZN2at6detail5emptyEv", "_ZN5torch3jit4loadEv"]


@cache
def seeds() -> dict[str, bytes]:
    """Real shared objects to mutate: an extension and a torch library."""
    ext = shared_object(
        _DIR / "seed-ext.so",
        needed=["libc10.so", "libtorch_cpu.so", "libcudart.so.13"],
        undefined=[*TORCH_SYMBOLS, "_ZNSt7__cxx1112basic_stringIcEE", "malloc"],
        defined=["PyInit__C"],
        fatbin=fatbin(((2, 80), (2, 90), (1, 90))) + bytes(24) + fatbin(((2, 120),)),
    )
    lib = shared_object(
        _DIR / "seed-libc10.so",
        defined=[TORCH_SYMBOLS[0], TORCH_SYMBOLS[2], *(f"_ZN3c10g{i}Ev" for i in range(40))],
    )
    return {"ext": ext.read_bytes(), "lib": lib.read_bytes()}


def _field_offsets(data: bytes) -> list[tuple[int, int]]:
    """(offset, width) of the header fields a reader trusts: e_shoff, e_shentsize, e_shnum,
    e_shstrndx, and each section's type, flags, offset, size, link, entsize."""
    out = [(0x28, 8), (0x3A, 2), (0x3C, 2), (0x3E, 2)]
    shoff = struct.unpack_from("<Q", data, 0x28)[0]
    shnum = struct.unpack_from("<H", data, 0x3C)[0]
    for i in range(shnum):
        base = shoff + 64 * i
        out += [(base + 4, 4), (base + 8, 8), (base + 24, 8), (base + 32, 8), (base + 40, 4)]
        out.append((base + 56, 8))
    return [(o, w) for o, w in out if o + w <= len(data)]


_EXTREMES = [0, 1, 7, 8, 16, 24, 63, 64, 0xFF, 0xFFFF, 0xFFFFFFFF, 1 << 31, 1 << 40, 2**64 - 1]


@st.composite
def mutated_elf(draw: st.DrawFn, which: str) -> bytes:
    data = bytearray(seeds()[which])
    fields = _field_offsets(bytes(data))
    for _ in range(draw(st.integers(0, 4))):
        offset, width = draw(st.sampled_from(fields))
        value = draw(st.one_of(st.sampled_from(_EXTREMES), st.integers(0, 2**64 - 1)))
        data[offset : offset + width] = (value % (1 << (8 * width))).to_bytes(width, "little")
    for _ in range(draw(st.integers(0, 6))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    if draw(st.integers(0, 9)) == 0:
        data += draw(st.binary(max_size=256))
    return bytes(data)


def _check_entry(entry: dict[str, object]) -> None:
    assert isinstance(entry["links"], list)
    assert entry.get("partial") is None or isinstance(entry.get("partial"), str)
    for key in ("sass", "ptx", "missing_torch_symbols"):
        value = entry.get(key, [])
        assert isinstance(value, list) and all(isinstance(v, str) for v in value)


@ELF_FUZZ
@given(ext=mutated_elf("ext"), lib=mutated_elf("lib"))
@example(ext=b"", lib=b"\x7fELF")
def test_any_elf_file_is_an_entry_or_a_note(ext: bytes, lib: bytes) -> None:
    ext_path, lib_path = _DIR / "ext.so", _DIR / "libc10.so"
    ext_path.write_bytes(ext)
    lib_path.write_bytes(lib)
    out = elfscan.read_gpu_code(str(ext_path))
    assert isinstance(out["needed"], list) and isinstance(out["sass"], list)
    assert out["partial"] is None or isinstance(out["partial"], str)
    lookup = extensions._TorchExports([str(lib_path)])
    try:
        entry = extensions.scan_file(str(ext_path), lookup)
    finally:
        lookup.close()
    _check_entry(entry)


def test_the_unmutated_seeds_read_in_full() -> None:
    """The fuzz starts from files the reader reads without a note."""
    seeds()
    ext_path, lib_path = _DIR / "seed-ext.so", _DIR / "seed-libc10.so"
    lookup = extensions._TorchExports([str(lib_path)])
    entry = extensions.scan_file(str(ext_path), lookup)
    lookup.close()
    assert entry["partial"] is None and entry["sass"] == ["sm_80", "sm_90", "sm_120"]
    assert entry["ptx"] == ["compute_90"] and entry["cuda_major"] == 13
    assert entry["torch_symbols"] == 3 and entry["cxx11_abi"] is True
    assert entry["missing_torch_symbols"] == [TORCH_SYMBOLS[1]]


# -------------------------------------------------------------------- hostlists
literal = st.text("ab-.1_0", max_size=4)


@st.composite
def bracket(draw: st.DrawFn) -> str:
    pieces = []
    for _ in range(draw(st.integers(1, 3))):
        lo = draw(st.integers(0, 120))
        hi = lo + draw(st.integers(0, 15))
        width = draw(st.sampled_from([0, 0, 2, 3]))
        a, b = f"{lo:0{width}d}", f"{hi:0{width}d}"
        pieces.append(a if lo == hi and draw(st.booleans()) else f"{a}-{b}")
    return "[" + ",".join(pieces) + "]"


@st.composite
def hostlists(draw: st.DrawFn) -> str:
    items = []
    for _ in range(draw(st.integers(1, 4))):
        parts = [draw(literal)]
        for _ in range(draw(st.integers(0, 2))):
            parts += [draw(bracket()), draw(literal)]
        item = "".join(parts) or "n"
        items += [item] * draw(st.integers(1, 2))  # repeats
    return ",".join(items)


_ONE_LINE = re.compile(r"^[^\n]{1,400}$")


@HOSTLIST_FUZZ
@given(
    text=st.one_of(hostlists(), st.text("ab1-0[],. 9", max_size=30)),
    seen_every=st.integers(1, 4),
)
@example(text="a1[0-9],a[10-19],n[08-100],n100,[1-2][3-4]", seen_every=3)
@example(text="n[1-2]" * 3 + "x" + "7" * 25, seen_every=1)
def test_any_hostlist_agrees_with_its_expansion(text: str, seen_every: int) -> None:
    try:
        hl = Hostlist.parse(text)
    except UsageError as exc:
        assert _ONE_LINE.match(str(exc)), str(exc)
        return
    want = expand_hostlist(text)
    assert len(hl) == len(want)
    assert all(h in hl for h in want)
    assert sorted(parse_hostlist(text)) == sorted(want)
    seen = [*sorted(want)[::seen_every], "stranger", "a999999999999999999999"]
    missing = hl.missing(seen, listed=5)
    rest = want - set(seen)
    assert missing.count == len(rest) and set(missing.first) <= rest
    assert (expand_hostlist(missing.where) if missing.where else set()) == rest


@st.composite
def host_name(draw: st.DrawFn) -> str:
    number = draw(st.integers(0, 10**25))  # past 18 digits a number is text
    width = draw(st.sampled_from([0, 0, 2, 4, 20]))
    digits = f"{number:0{width}d}" if draw(st.booleans()) else ""
    return (
        draw(st.sampled_from(["a", "b-", "c.d", "n1-", "x_"]))
        + digits
        + draw(st.sampled_from(["", ".x", "-ib", "-ib0"]))
    )


names = st.lists(host_name(), max_size=30)


@HOSTLIST_FUZZ
@given(hosts=names, odd=st.lists(st.text(max_size=12), max_size=3))
def test_compress_hostlist_reads_back_as_the_names(hosts: list[str], odd: list[str]) -> None:
    text = compress_hostlist(hosts)
    assert (set(parse_hostlist(text)) if text else set()) == set(hosts)
    assert isinstance(compress_hostlist([*hosts, *odd]), str)  # any text: no exception


def teardown_module() -> None:
    for p in _DIR.iterdir():
        p.unlink()
    os.rmdir(_DIR)
