"""The probe's parsers of what every machine and image has, written with string methods
so that a served probe never imports re (~3-5 ms of a fresh container), answer what the
regular expressions they replace answer: on recorded text, on generated text built from
the characters each pattern turns on (Unicode spaces and digits, newlines inside the
spaces), and for NUMA nodes against glob itself on real directories. Shared-object
names, the old C++ ABI and the targets' order likewise: an extension scan needs re only
for what it reads in an ELF file."""

from __future__ import annotations

import glob
import os
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from envlock.probe import _dists, cudalibs, envvars, extensions, system, toolchain
from envlock.probe.libnames import has_so_suffix

# characters the patterns turn on, and some they must not be fooled by
_SPACES = " \t\n\r\x0b\x0c\u00a0\u2003\u3000\x85"
_DIGITS = "0123456789\u0663\u096a\uff17"
_WORDY = "abcxyzABCXYZ_-.:;=kBMemTotalflagsFeatures\u00e9\u0394"


def _text(extra: str = "") -> st.SearchStrategy[str]:
    return st.text(alphabet=st.sampled_from(_SPACES + _DIGITS + _WORDY + extra), max_size=60)


def _lines(*heads: str) -> st.SearchStrategy[str]:
    """Text whose lines often start with one of `heads`."""
    line = st.one_of(st.sampled_from(heads).flatmap(lambda h: _text().map(h.__add__)), _text())
    return st.lists(line, max_size=6).map("\n".join)


def _meminfo_by_re(text: str) -> int | None:
    m = re.search(r"^MemTotal:\s+(\d+)\s*kB", text, re.MULTILINE)
    return int(m.group(1)) * 1024 if m else None


def _flags_by_re(text: str) -> str | None:
    m = re.search(r"^(?:flags|Features)\s*:\s*(.*)$", text, re.MULTILINE)
    return m.group(1) if m else None


def _requirement_by_re(text: str) -> str | None:
    m = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", text)
    return m.group(1) if m else None


@given(_lines("MemTotal:", "MemTotal: ", "MemFree:"))
def test_memtotal_is_what_the_pattern_read(text: str) -> None:
    assert system.parse_meminfo_total(text) == _meminfo_by_re(text)


@given(_lines("flags", "flags\t\t: ", "Features", "Features:", "processor\t: "))
def test_the_cpu_flags_are_what_the_pattern_read(text: str) -> None:
    assert toolchain._first_flags(text) == _flags_by_re(text)


@given(_text("[]~/"))
def test_a_requirement_s_name_is_what_the_pattern_read(text: str) -> None:
    assert _dists.requirement_name(text) == _requirement_by_re(text)


@given(_text("_-.") | st.text(max_size=30))
def test_a_normalized_name_is_what_the_pattern_wrote(text: str) -> None:
    assert _dists.normalize(text) == re.sub(r"[-_.]+", "-", text).lower()


@pytest.mark.parametrize(
    ("text", "total"),
    [
        ("MemTotal:       24684084 kB\nMemFree: 1 kB\n", 24684084 * 1024),
        ("MemFree: 1 kB\nMemTotal:\t7 kB", 7 * 1024),
        ("MemTotal: 7kB\n", 7 * 1024),
        ("MemTotal:7 kB\nMemTotal: 8 kB\n", 8 * 1024),  # \s+ needs a space: the next line
        (" MemTotal: 7 kB\n", None),
        ("MemTotal: 7 MB\n", None),
        ("MemTotal: \n  9 kB\n", 9 * 1024),  # \s+ crosses the newline, as re's did
    ],
)
def test_memtotal_cases(text: str, total: int | None) -> None:
    assert system.parse_meminfo_total(text) == total == _meminfo_by_re(text)


@pytest.mark.parametrize(
    "text",
    [
        "processor\t: 0\nflags\t\t: fpu vme avx2 avx512f\nbugs\t\t: x\nflags : second\n",
        "Features\t: fp asimd evtstrm aes\nCPU part\t: 0xd0c\n",
        "flags\t\t:\nbogomips\t: 4000\n",  # \s* after the colon crosses the newline
        "flagship: no\nflags: yes\n",
        "processor: 0\n",
        "",
    ],
)
def test_cpu_flags_cases(text: str) -> None:
    assert toolchain._first_flags(text) == _flags_by_re(text)


def test_cpu_isa_from_this_machine_is_what_the_pattern_read() -> None:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    flags = _flags_by_re(cpuinfo)
    present = set(flags.split()) if flags is not None else set()
    expected = [f for f in toolchain.ISA_FLAGS if f in present] if flags is not None else None
    assert toolchain.cpu_isa(cpuinfo) == expected


@pytest.mark.parametrize(
    "names",
    [
        ["node0", "node1", "cpu0", "nodex", "node", "has_cpu", "node12abc"],
        ["possible", "online"],
        [".node0", "Node1", "node\u0663"],
        [],
    ],
)
def test_numa_nodes_are_what_glob_found(tmp_path: Path, names: list[str]) -> None:
    for name in names:
        (tmp_path / name).mkdir()
    found = glob.glob(os.path.join(tmp_path, "node[0-9]*"))
    assert toolchain.numa_nodes(str(tmp_path)) == (len(found) or None)


def test_numa_nodes_of_no_directory_are_none(tmp_path: Path) -> None:
    assert toolchain.numa_nodes(str(tmp_path / "missing")) is None
    (tmp_path / "file").write_text("")
    assert toolchain.numa_nodes(str(tmp_path / "file")) is None


@given(_text("/") | st.sampled_from(["libcudart.so.13", "libcuda.so.1", "libcudnn.so", "x"]))
def test_a_cuda_runtime_library_name_is_what_the_pattern_matched(name: str) -> None:
    by_re = re.match(r"libcud(art|a)\.so", name) is not None
    assert name.startswith(cudalibs._RUNTIME_LIB) == by_re


@given(_text(":/@?#"))
def test_a_value_without_a_url_is_kept_as_the_pattern_kept_it(value: str) -> None:
    """mask_url_credentials imports re only for a value holding "://": without one the
    URL pattern finds nothing to mask."""
    if "://" not in value:
        assert re.search(envvars._URL, value) is None
        assert envvars.mask_url_credentials(value) == value
    masked = envvars.mask_url_credentials(value + " https://u:p@h/x")
    assert "u:p" not in masked.rpartition(" ")[2]


@given(
    st.text(alphabet=st.sampled_from(".so0123456789\u0663\nlibxa-_"), max_size=20)
    | st.sampled_from(["libcudnn.so.9", "libx.so", "libx.so.13.0", "x.so\n", "x.so.1a", "so.1"])
)
def test_a_shared_object_s_ending_is_what_the_pattern_found(name: str) -> None:
    assert has_so_suffix(name) == (re.search(r"\.so(\.\d+)*$", name) is not None)


@given(st.lists(st.text(alphabet=st.sampled_from("RPKSs_Z3c10x"), max_size=8), max_size=6))
def test_the_old_abi_is_what_the_pattern_found(symbols: list[str]) -> None:
    by_re = any(re.search(r"(?:RK|PK|R|P)Ss", s) for s in symbols)
    expected = True if any("cxx11" in s for s in symbols) else (False if by_re else None)
    assert extensions._abi(symbols) == expected


@given(st.lists(st.text(alphabet=st.sampled_from("sm_0123456789\u0663compute"), max_size=8)))
def test_the_targets_are_ordered_as_the_pattern_ordered_them(names: list[str]) -> None:
    def order(t: str) -> tuple[int, str]:
        digits = re.sub(r"\D", "", t)
        return (int(digits) if digits else 0, t)

    assert extensions._targets(names) == sorted(set(names), key=order)
