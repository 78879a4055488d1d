"""Little-endian ELF64 shared objects written byte by byte, for the ELF reader's tests.

`shared_object()` lays out what the extension scan reads: `.dynamic` with DT_NEEDED
names, `.dynsym`/`.dynstr` with undefined and defined symbols, a `.gnu.hash` table
over the defined ones (the layout ld writes: bloom filter, buckets, chain), and an
optional `.nv_fatbin`. A section may state a size larger than its bytes: it is put
last and the file is extended with `truncate` (a sparse file, a few KB on disk).
readelf agrees with these files (tests/probe/test_elf_budget.py holds that).
"""

from __future__ import annotations

import os
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

SHT_PROGBITS, SHT_STRTAB, SHT_DYNAMIC, SHT_DYNSYM = 1, 3, 6, 11
SHT_GNU_HASH = 0x6FFFFFF6
SHF_ALLOC = 2
DT_NEEDED, DT_STRTAB, DT_SYMTAB, DT_GNU_HASH = 1, 5, 6, 0x6FFFFEF5
STB_GLOBAL_FUNC = 0x12  # st_info: STB_GLOBAL << 4 | STT_FUNC


@dataclass
class Sec:
    name: str
    type: int
    payload: bytes = b""
    flags: int = SHF_ALLOC
    link: str | None = None  # the section sh_link names, by name
    entsize: int = 0
    stated_size: int | None = None  # sh_size when it differs from len(payload)
    align: int = 8


def elf_bytes(sections: Sequence[Sec]) -> tuple[bytes, int | None]:
    """(the file's bytes, the size to truncate it to when the last section states more)."""
    names = b"\0"
    name_at = {}
    for s in [*sections, Sec(".shstrtab", SHT_STRTAB)]:
        name_at[s.name] = len(names)
        names += s.name.encode() + b"\0"
    index = {s.name: i + 1 for i, s in enumerate(sections)}
    body = bytearray(64)
    shstr_off = len(body)
    body += names
    # everything but a section stating more than it holds, then the headers, then that one
    growing = [s for s in sections if s.stated_size is not None and s.stated_size > len(s.payload)]
    assert len(growing) <= 1 and (not growing or growing[0] is sections[-1])
    offsets: dict[str, int] = {}
    for s in sections:
        if s in growing:
            continue
        while len(body) % s.align:
            body.append(0)
        offsets[s.name] = len(body)
        body += s.payload
    while len(body) % 8:
        body.append(0)
    shoff = len(body)
    count = len(sections) + 2
    body += bytes(64 * count)
    truncate_to = None
    if growing:
        g = growing[0]
        while len(body) % g.align:
            body.append(0)
        offsets[g.name] = len(body)
        body += g.payload
        assert g.stated_size is not None
        truncate_to = offsets[g.name] + g.stated_size
    headers = [bytes(64)]
    for s in sections:
        size = s.stated_size if s.stated_size is not None else len(s.payload)
        link = index[s.link] if s.link else 0
        headers.append(
            struct.pack(
                "<IIQQQQIIQQ",
                name_at[s.name],
                s.type,
                s.flags,
                0,
                offsets[s.name],
                size,
                link,
                1 if s.type == SHT_DYNSYM else 0,
                s.align,
                s.entsize,
            )
        )
    headers.append(
        struct.pack(
            "<IIQQQQIIQQ", name_at[".shstrtab"], SHT_STRTAB, 0, 0, shstr_off, len(names), 0, 0, 1, 0
        )
    )
    body[shoff : shoff + 64 * count] = b"".join(headers)
    ident = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    body[:64] = ident + struct.pack(
        "<HHIQQQIHHHHHH", 3, 62, 1, 0, 0, shoff, 0, 64, 0, 0, 64, count, count - 1
    )
    return bytes(body), truncate_to


def write_elf(path: Path, sections: Sequence[Sec]) -> Path:
    data, truncate_to = elf_bytes(sections)
    path.write_bytes(data)
    if truncate_to is not None:
        os.truncate(path, truncate_to)
    return path


def gnu_hash(name: bytes) -> int:
    h = 5381
    for c in name:
        h = (h * 33 + c) & 0xFFFFFFFF
    return h


def _gnu_hash_table(names: Sequence[bytes], symoffset: int) -> bytes:
    """One bucket, one 64-bit bloom word: enough for lookups to walk the real algorithm."""
    shift = 6
    bloom = 0
    chain = []
    for i, n in enumerate(names):
        h = gnu_hash(n)
        bloom |= 1 << (h % 64) | 1 << ((h >> shift) % 64)
        chain.append((h & ~1) | (1 if i == len(names) - 1 else 0))
    bucket = symoffset if names else 0
    head = struct.pack("<IIII", 1, symoffset, 1, shift)
    return (
        head
        + struct.pack("<Q", bloom)
        + struct.pack("<I", bucket)
        + struct.pack(f"<{len(chain)}I", *chain)
    )


def shared_object(
    path: Path,
    *,
    needed: Sequence[str] = (),
    undefined: Sequence[str] = (),
    defined: Sequence[str] = (),
    fatbin: bytes | None = None,
    fatbin_size: int | None = None,
) -> Path:
    """A shared object that needs `needed`, imports `undefined` and exports `defined`
    (with a .gnu.hash over them); `.nv_fatbin` holds `fatbin` and states `fatbin_size`."""
    strtab = bytearray(b"\0")
    offsets = {}
    for n in [*needed, *undefined, *defined]:
        if n not in offsets:
            offsets[n] = len(strtab)
            strtab += n.encode() + b"\0"
    dynamic = b"".join(struct.pack("<qQ", DT_NEEDED, offsets[n]) for n in needed)
    dynamic += struct.pack("<qQ", 0, 0)
    undef_entry = struct.Struct("<IBBHQQ")
    syms = bytearray(24)  # entry 0: the null symbol
    syms += b"".join(undef_entry.pack(offsets[n], STB_GLOBAL_FUNC, 0, 0, 0, 0) for n in undefined)
    syms += b"".join(
        undef_entry.pack(offsets[n], STB_GLOBAL_FUNC, 0, 1, 0x1000, 8) for n in defined
    )
    sections = [
        Sec(".text", SHT_PROGBITS, b"\xc3" * 16, flags=SHF_ALLOC | 4),
        Sec(".dynstr", SHT_STRTAB, bytes(strtab), align=1),
        Sec(".dynsym", SHT_DYNSYM, bytes(syms), link=".dynstr", entsize=24),
        Sec(".dynamic", SHT_DYNAMIC, dynamic, link=".dynstr", entsize=16),
    ]
    if defined:
        table = _gnu_hash_table([n.encode() for n in defined], 1 + len(undefined))
        sections.append(Sec(".gnu.hash", SHT_GNU_HASH, table, link=".dynsym"))
    if fatbin is not None or fatbin_size is not None:
        sections.append(
            Sec(".nv_fatbin", SHT_PROGBITS, fatbin or b"", stated_size=fatbin_size, align=8)
        )
    return write_elf(path, sections)


def fatbin(entries: Sequence[tuple[int, int]] = ((2, 90),), version: int = 1) -> bytes:
    """One fatbin with these (kind, arch) entries: kind 2 SASS, 1 PTX."""
    blob = b""
    for kind, arch in entries:
        head = struct.pack("<HHIQIIHHI", kind, 0x101, 64, 16, 0, 0, 0, 0, arch)
        blob += head + bytes(64 - len(head)) + bytes(16)
    return struct.pack("<IHHQ", 0xBA55ED50, version, 16, len(blob)) + blob
