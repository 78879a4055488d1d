"""A CUDA library's `.nv_fatbin` read fatbin by fatbin: which targets each embedded fatbin
holds, grouped by that target set and counted.

nvcc writes one fatbin per translation unit, holding the targets that unit was compiled
for; a library linked from several projects (torch's own kernels, NCCL, MAGMA) holds the
fatbins of each with that project's targets. envlock.probe.fatbin reads the section as one
flat list of targets; this test-side reading keeps the fatbins apart, so a PTX target can
be traced to the units that carry it (tests/matrix/test_fatbin_groups.py). It reads the
same headers, through envlock.probe.fatbin's constants and the probe's ELF reader.
"""

from __future__ import annotations

import struct
from collections import Counter
from typing import TypedDict

from envlock.probe import fatbin
from envlock.probe.elfread import Reader
from envlock.probe.elfscan import open_elf


class Group(TypedDict):
    count: int  # fatbins holding exactly these targets
    sass: list[str]
    ptx: list[str]


def _entries(read: Reader, start: int, stop: int) -> frozenset[tuple[int, int]]:
    """(kind, arch) of each entry of one fatbin."""
    found: set[tuple[int, int]] = set()
    e = start
    while e + 32 <= stop:
        head = read.read(e, 32, "fatbin entry")
        kind, _v, ehsize, psize = struct.unpack_from("<HHIQ", head, 0)
        found.add((kind, struct.unpack_from("<I", head, 28)[0]))
        e += ehsize + psize
    return frozenset(found)


def fatbin_groups(path: str) -> list[Group]:
    """The fatbins of `path`'s `.nv_fatbin`, grouped by target set, most frequent first."""
    fh, elf = open_elf(path)
    try:
        s = elf.section(".nv_fatbin")
        assert s is not None, path
        r = elf.r
        sets: Counter[frozenset[tuple[int, int]]] = Counter()
        pos, end = s.offset, s.offset + s.size
        while pos + 16 <= end:
            magic, _ver, hsize, fsize = struct.unpack_from("<IHHQ", r.read(pos, 16, "fatbin"), 0)
            if magic == 0:  # padding between fatbins
                pos += 8
                continue
            assert magic == fatbin.FATBIN_MAGIC, (path, pos)
            sets[_entries(r, pos + hsize, pos + hsize + fsize)] += 1
            pos += hsize + fsize
    finally:
        fh.close()
    groups = [
        Group(
            count=n,
            sass=sorted(f"sm_{a}" for k, a in targets if k == fatbin.KIND_ELF),
            ptx=sorted(f"compute_{a}" for k, a in targets if k == fatbin.KIND_PTX),
        )
        for targets, n in sets.items()
    ]
    return sorted(groups, key=lambda g: (-g["count"], g["sass"], g["ptx"]))


def foreign_ptx(groups: list[Group], row_sass: set[str]) -> set[str]:
    """The PTX targets carried only by fatbins that also hold SASS the row does not list:
    units of a library linked in with its own targets, not torch's own kernels."""
    carried: dict[str, list[Group]] = {}
    for g in groups:
        for p in g["ptx"]:
            carried.setdefault(p, []).append(g)
    return {p for p, gs in carried.items() if all(set(g["sass"]) - row_sass for g in gs)}
