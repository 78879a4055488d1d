"""How a shared library's own search path is recorded: DT_RPATH or DT_RUNPATH (stdlib only).

The dynamic loader searches DT_RPATH before LD_LIBRARY_PATH, and DT_RUNPATH
after it (ld.so(8)): whether an LD_LIBRARY_PATH directory can shadow the
libraries a torch wheel ships depends on which one libtorch_cuda.so carries.
Only the ELF header, the program headers and the dynamic segment are read, each
bounded (1 MiB), and only from a regular file: a FIFO named libtorch_cuda.so does not
block the probe.
"""

from __future__ import annotations

import struct

from envlock.probe._regular import open_regular

DT_NULL, DT_RPATH, DT_RUNPATH = 0, 15, 29
PT_DYNAMIC = 2
MAX_READ = 1 << 20  # a real program header table is a few hundred bytes


class _NotElf(Exception):
    """The file's headers do not hold together as ELF."""


def search_path_kind(path: str) -> str | None:
    """ "rpath", "runpath" or "none" for an ELF file; None when it cannot be read as ELF."""
    try:
        with open_regular(path) as fh:
            is64, end, phoff, phentsize, phnum = _elf_header(fh.read(64))
            if phentsize * phnum > MAX_READ:
                return None  # 65,535 entries of 65,535 bytes: not a real table
            fh.seek(phoff)
            table = fh.read(phentsize * phnum)
            dynamic = _dynamic_segment(table, phentsize, phnum, is64, end)
            if dynamic is None:
                return "none"
            fh.seek(dynamic[0])
            dyn = fh.read(min(dynamic[1], MAX_READ))
    except (OSError, struct.error, _NotElf, ValueError, OverflowError):
        # ValueError/OverflowError: an offset of 2**63 or more, which seek() refuses
        return None
    tags = _dynamic_tags(dyn, is64, end)
    if DT_RUNPATH in tags:  # with both, the loader ignores DT_RPATH
        return "runpath"
    return "rpath" if DT_RPATH in tags else "none"


def _elf_header(ident: bytes) -> tuple[bool, str, int, int, int]:
    """(64-bit, struct byte order, program header offset, entry size, entry count) from
    the first 64 bytes; _NotElf when they are not an ELF header."""
    if len(ident) < 64 or ident[:4] != b"\x7fELF":
        raise _NotElf
    is64 = ident[4] == 2
    end = "<" if ident[5] == 1 else ">"
    if is64:
        (phoff,) = struct.unpack_from(end + "Q", ident, 0x20)
        phentsize, phnum = struct.unpack_from(end + "HH", ident, 0x36)
    else:
        (phoff,) = struct.unpack_from(end + "I", ident, 0x1C)
        phentsize, phnum = struct.unpack_from(end + "HH", ident, 0x2A)
    return is64, end, phoff, phentsize, phnum


def _dynamic_segment(
    table: bytes, phentsize: int, phnum: int, is64: bool, end: str
) -> tuple[int, int] | None:
    """(file offset, size) of the first PT_DYNAMIC entry of the program header table;
    None without one; _NotElf when the table ends before an entry does."""
    for i in range(phnum):
        entry = table[i * phentsize : (i + 1) * phentsize]
        if len(entry) < phentsize:
            raise _NotElf
        (p_type,) = struct.unpack_from(end + "I", entry, 0)
        if p_type != PT_DYNAMIC:
            continue
        if is64:
            (dyn_off,) = struct.unpack_from(end + "Q", entry, 8)
            (dyn_size,) = struct.unpack_from(end + "Q", entry, 32)
        else:
            (dyn_off,) = struct.unpack_from(end + "I", entry, 4)
            (dyn_size,) = struct.unpack_from(end + "I", entry, 16)
        return dyn_off, dyn_size
    return None


def _dynamic_tags(dyn: bytes, is64: bool, end: str) -> set[int]:
    """The tags of the dynamic section's entries, up to DT_NULL."""
    fmt, size = (end + "qQ", 16) if is64 else (end + "iI", 8)
    tags = set()
    for pos in range(0, len(dyn) - size + 1, size):
        tag, _ = struct.unpack_from(fmt, dyn, pos)
        if tag == DT_NULL:
            break
        tags.add(tag)
    return tags
