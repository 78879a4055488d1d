"""The index of a `.nv_fatbin` section: every embedded cubin (SASS `sm_XY`) and PTX
(`compute_XY`) entry with its target, read from the entry headers alone, never a payload
(stdlib only, the probe; elfscan.py's docstring describes the layout)."""

from __future__ import annotations

import struct

from envlock.probe.elfread import SHF_COMPRESSED, ElfError, Reader, Section

FATBIN_MAGIC = 0xBA55ED50
FATBIN_VERSION = 1
KIND_PTX, KIND_ELF = 1, 2
MAX_FATBIN_ENTRIES = 1 << 16
MAX_FATBINS = 1 << 16  # fatbin headers (and runs of padding) in one .nv_fatbin
# Padding between fatbins is read in chunks growing from the first to the last size.
_PAD_CHUNKS = (256, 1 << 20)
# Entry flags (cuda-fatbin-decompression): bit 13 the old LZ4 compression, bit 15 the
# newer one; the index is read either way, only the payload would need decompressing.
_FLAG_COMPRESSED = 0x2000 | 0x8000
# The arch-specific variant bit: set on sm_90a/sm_100a/sm_120a entries, the ones cuobjdump
# names with an "a" (observed on torch 2.14's libtorch_cuda.so). Bit 21, set on its
# sm_103 entries, is not part of cuobjdump's name and not of ours.
_FLAG_ARCH_A = 1 << 20


class _Targets:
    """What the entries of one `.nv_fatbin` name, and how many entries were read."""

    __slots__ = ("entries", "notes", "ptx", "sass")

    def __init__(self) -> None:
        self.sass: list[str] = []
        self.ptx: list[str] = []
        self.notes: list[str] = []
        self.entries = 0  # across the section's fatbins, for MAX_FATBIN_ENTRIES

    def add(self, kind: int, arch: int, flags: int) -> None:
        suffix = "a" if flags & _FLAG_ARCH_A else ""
        if kind == KIND_ELF:
            self.sass.append(f"sm_{arch}{suffix}")
        elif kind == KIND_PTX:
            self.ptx.append(f"compute_{arch}{suffix}")
        else:
            self.notes.append(f"fatbin entry of unknown kind {kind}")


def targets(r: Reader, s: Section) -> tuple[list[str], list[str], list[str]]:
    """(SASS targets, PTX targets, notes) of every entry of the `.nv_fatbin` section `s`,
    one item per entry (duplicates kept, as cuobjdump lists them)."""
    if s.flags & SHF_COMPRESSED:
        raise ElfError(".nv_fatbin is compressed (SHF_COMPRESSED): targets not read")
    if s.offset + s.size > r.size:
        raise ElfError(".nv_fatbin lies outside the file (truncated?)")
    found = _Targets()
    pos, end, fatbins, chunk = s.offset, s.offset + s.size, 0, _PAD_CHUNKS[0]
    while pos + 16 <= end:
        fatbins += 1
        if fatbins > MAX_FATBINS:
            raise ElfError(f"more than {MAX_FATBINS} fatbins in .nv_fatbin")
        magic, version, hsize, fsize = struct.unpack_from(
            "<IHHQ", r.read(pos, 16, "fatbin header"), 0
        )
        if magic == 0:
            pos, chunk = _skip_padding(r, pos, end, chunk)
            continue
        where = f".nv_fatbin+{pos - s.offset:#x}"
        if magic != FATBIN_MAGIC:
            raise ElfError(f"no fatbin header at {where}")
        if version != FATBIN_VERSION:
            raise ElfError(f"fatbin of unknown version {version}: targets not read")
        if hsize < 16 or pos + hsize + fsize > end:
            raise ElfError(f"fatbin at {where} overruns the section")
        _fatbin_entries(r, pos + hsize, pos + hsize + fsize, found)
        pos += hsize + fsize
    return found.sass, found.ptx, found.notes


def _skip_padding(r: Reader, pos: int, end: int, chunk: int) -> tuple[int, int]:
    """Past the zeros between fatbins at `pos`: (the next position, the next chunk).
    Skipped in 8-byte steps, read in chunks that grow while all is zeros (a hole of
    512 MiB is not 67 M reads)."""
    pad = r.read(pos, min(chunk, end - pos), ".nv_fatbin padding")
    zeros = len(pad) - len(pad.lstrip(b"\0"))
    pos += max(8, zeros - zeros % 8)
    chunk = min(chunk * 2, _PAD_CHUNKS[1]) if zeros == len(pad) else _PAD_CHUNKS[0]
    return pos, chunk


def _fatbin_entries(r: Reader, e: int, stop: int, found: _Targets) -> None:
    """The entries of one fatbin, from `e` to `stop`, into `found`."""
    while e + 32 <= stop:
        found.entries += 1
        if found.entries > MAX_FATBIN_ENTRIES:
            raise ElfError(f"more than {MAX_FATBIN_ENTRIES} fatbin entries")
        head = r.read(e, min(64, stop - e), "fatbin entry")
        kind, _v, ehsize, psize = struct.unpack_from("<HHIQ", head, 0)
        arch = struct.unpack_from("<I", head, 28)[0]
        flags = struct.unpack_from("<Q", head, 40)[0] if len(head) >= 48 else 0
        if ehsize < 32 or e + ehsize + psize > stop:
            raise ElfError("fatbin entry overruns its fatbin")
        found.add(kind, arch, flags)
        e += ehsize + psize
