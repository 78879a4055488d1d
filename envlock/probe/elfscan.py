"""What a native extension carries, read from its ELF headers alone (stdlib only).

For one shared object: its section headers, `DT_NEEDED` names, the undefined
symbols of its dynamic symbol table, and the index of its `.nv_fatbin`
section -- every embedded cubin (SASS `sm_XY`) and PTX (`compute_XY`) entry
with its target. Only headers and tables are read, with seeks: never a whole
binary, never a fatbin payload (compressed or not). Symbol lookups in torch's
own libraries go through their `.gnu.hash` tables, a handful of small reads
per symbol.

Nothing here raises on bad input: a truncated file, a file that is not ELF,
compressed sections, a fatbin of an unknown version or absurd sizes give a
`partial` note and whatever could be read before it.

The fatbin layout (NVIDIA does not document it; cuda-fatbin-decompression and
LLVM's offload tooling describe the same structure, and tests hold this reader
equal to `cuobjdump --list-elf/--list-ptx`): the section is a sequence of
fatbins, each a 16-byte header (magic 0xBA55ED50, u16 version 1, u16 header
size, u64 size of the entries) followed by entries; each entry starts with
u16 kind (1 PTX, 2 ELF), u16 version, u32 header size, u64 payload size, and
at offset 28 the u32 target (90 for sm_90/compute_90). Entry flags at offset
40 say whether the payload is compressed; the target is readable either way.
"""

from __future__ import annotations

import struct

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, BinaryIO

FATBIN_MAGIC = 0xBA55ED50
FATBIN_VERSION = 1
KIND_PTX, KIND_ELF = 1, 2
SHT_DYNSYM, SHT_DYNAMIC, SHT_GNU_HASH = 11, 6, 0x6FFFFFF6
SHF_COMPRESSED = 0x800
DT_NULL, DT_NEEDED = 0, 1
SHN_XINDEX = 0xFFFF
# Bounds on what one file may make us read: far above any real binary's tables
# (torch's libtorch_cpu.so has ~76,000 dynamic symbols and a 5 MB .dynstr).
MAX_SECTIONS = 1 << 16
MAX_TABLE_BYTES = 64 << 20
MAX_FATBIN_ENTRIES = 1 << 16
MAX_NEEDED = 4096
# Entry flags (cuda-fatbin-decompression): bit 13 the old LZ4 compression, bit 15 the
# newer one; the index is read either way, only the payload would need decompressing.
_FLAG_COMPRESSED = 0x2000 | 0x8000
# The arch-specific variant bit: set on sm_90a/sm_100a/sm_120a entries, the ones cuobjdump
# names with an "a" (observed on torch 2.14's libtorch_cuda.so). Bit 21, set on its
# sm_103 entries, is not part of cuobjdump's name and not of ours.
_FLAG_ARCH_A = 1 << 20


class ElfError(Exception):
    """This file cannot be read (further) as ELF: the message becomes the partial note."""


class _Reader:
    def __init__(self, fh: BinaryIO, size: int) -> None:
        self.fh = fh
        self.size = size

    def read(self, offset: int, length: int, what: str) -> bytes:
        if offset < 0 or length < 0 or offset + length > self.size:
            raise ElfError(f"{what} lies outside the file (truncated?)")
        self.fh.seek(offset)
        data = self.fh.read(length)
        if len(data) != length:
            raise ElfError(f"{what}: short read (truncated?)")
        return data


class Section:
    __slots__ = ("addralign", "entsize", "flags", "link", "name", "offset", "size", "type")

    def __init__(
        self, name: str, type_: int, flags: int, offset: int, size: int, link: int, entsize: int
    ) -> None:
        self.name = name
        self.type = type_
        self.flags = flags
        self.offset = offset
        self.size = size
        self.link = link
        self.entsize = entsize


class ElfFile:
    """An open ELF file's header and section table; methods read the rest on demand."""

    def __init__(self, fh: BinaryIO, size: int) -> None:
        self.r = _Reader(fh, size)
        head = self.r.read(0, min(16, size), "ELF identification")
        if head[:4] != b"\x7fELF"[: len(head)] or not head:
            raise ElfError("not an ELF file")
        ident = self.r.read(0, 16, "ELF identification")
        if ident[4] not in (1, 2) or ident[5] not in (1, 2):
            raise ElfError("unknown ELF class or byte order")
        self.is64 = ident[4] == 2
        self.end = "<" if ident[5] == 1 else ">"
        if self.is64:
            hdr = self.r.read(0, 64, "ELF header")
            shoff = struct.unpack_from(self.end + "Q", hdr, 0x28)[0]
            shentsize, shnum, shstrndx = struct.unpack_from(self.end + "HHH", hdr, 0x3A)
        else:
            hdr = self.r.read(0, 52, "ELF header")
            shoff = struct.unpack_from(self.end + "I", hdr, 0x20)[0]
            shentsize, shnum, shstrndx = struct.unpack_from(self.end + "HHH", hdr, 0x2E)
        self.sections = self._sections(shoff, shentsize, shnum, shstrndx)

    def _section_header(self, raw: bytes) -> tuple[int, int, int, int, int, int, int]:
        if self.is64:
            name, type_, flags, _addr, offset, size, link, _info, _align, entsize = (
                struct.unpack_from(self.end + "IIQQQQIIQQ", raw, 0)
            )
        else:
            name, type_, flags, _addr, offset, size, link, _info, _align, entsize = (
                struct.unpack_from(self.end + "IIIIIIIIII", raw, 0)
            )
        return name, type_, flags, offset, size, link, entsize

    def _sections(self, shoff: int, shentsize: int, shnum: int, shstrndx: int) -> list[Section]:
        if shoff == 0:
            return []  # no section table (stripped to program headers): nothing to index
        need = 64 if self.is64 else 40
        if shentsize < need:
            raise ElfError(f"section header size {shentsize} is too small")
        if shnum == 0 or shstrndx == SHN_XINDEX:  # extended numbering lives in section 0
            first = self._section_header(self.r.read(shoff, shentsize, "section header 0"))
            shnum = shnum or first[4]
            if shstrndx == SHN_XINDEX:
                shstrndx = first[5]
        if shnum > MAX_SECTIONS:
            raise ElfError(f"{shnum} sections is not a real binary")
        table = self.r.read(shoff, shnum * shentsize, "section header table")
        raw = [
            self._section_header(table[i * shentsize : i * shentsize + need]) for i in range(shnum)
        ]
        names = b""
        if 0 < shstrndx < shnum:
            _n, _t, flags, offset, size, _l, _e = raw[shstrndx]
            if size <= MAX_TABLE_BYTES and not flags & SHF_COMPRESSED:
                names = self.r.read(offset, size, "section name table")
        return [Section(_cstr(names, n), t, f, o, s, lk, e) for (n, t, f, o, s, lk, e) in raw]

    def section(self, name: str) -> Section | None:
        for s in self.sections:
            if s.name == name:
                return s
        return None

    def _table(self, s: Section, what: str) -> bytes:
        if s.flags & SHF_COMPRESSED:
            raise ElfError(f"{what} is compressed (SHF_COMPRESSED)")
        if s.size > MAX_TABLE_BYTES:
            raise ElfError(f"{what} of {s.size} bytes is not a real table")
        return self.r.read(s.offset, s.size, what)

    def _strtab(self, index: int, what: str) -> bytes:
        if not 0 < index < len(self.sections):
            raise ElfError(f"{what} names no string table")
        return self._table(self.sections[index], what)

    # ------------------------------------------------------------ dynamic
    def needed(self) -> list[str]:
        """DT_NEEDED names, in order."""
        dyn = next((s for s in self.sections if s.type == SHT_DYNAMIC), None)
        if dyn is None:
            return []
        data = self._table(dyn, ".dynamic")
        strtab = self._strtab(dyn.link, ".dynamic")
        fmt, size = (self.end + "qQ", 16) if self.is64 else (self.end + "iI", 8)
        out: list[str] = []
        for pos in range(0, len(data) - size + 1, size):
            tag, value = struct.unpack_from(fmt, data, pos)
            if tag == DT_NULL:
                break
            if tag == DT_NEEDED and len(out) < MAX_NEEDED:
                out.append(_cstr(strtab, value))
        return out

    def _dynsym(self) -> tuple[Section, bytes, bytes] | None:
        sym = next((s for s in self.sections if s.type == SHT_DYNSYM), None)
        if sym is None:
            return None
        return sym, self._table(sym, ".dynsym"), self._strtab(sym.link, ".dynsym")

    def undefined_symbols(self) -> list[str]:
        """Names the dynamic loader must find elsewhere (global, not weak), sorted."""
        found = self._dynsym()
        if found is None:
            return []
        _s, data, strtab = found
        out: set[str] = set()
        entsize = 24 if self.is64 else 16
        for pos in range(entsize, len(data) - entsize + 1, entsize):  # entry 0 is null
            if self.is64:
                name, info, _other, shndx = struct.unpack_from(self.end + "IBBH", data, pos)
            else:
                name, _v, _z, info, _other, shndx = struct.unpack_from(
                    self.end + "IIIBBH", data, pos
                )
            if shndx == 0 and name and info >> 4 == 1:  # STB_GLOBAL; STB_WEAK may be absent
                out.add(_cstr(strtab, name))
        return sorted(out)

    def defined_symbols(self) -> set[str]:
        """Names this object exports (global or weak, defined); for small objects and tests."""
        found = self._dynsym()
        if found is None:
            return set()
        _s, data, strtab = found
        out: set[str] = set()
        entsize = 24 if self.is64 else 16
        for pos in range(entsize, len(data) - entsize + 1, entsize):
            if self.is64:
                name, info, _other, shndx = struct.unpack_from(self.end + "IBBH", data, pos)
            else:
                name, _v, _z, info, _other, shndx = struct.unpack_from(
                    self.end + "IIIBBH", data, pos
                )
            if shndx != 0 and name and info >> 4 in (1, 2):
                out.add(_cstr(strtab, name))
        return out

    # ------------------------------------------------------------- fatbin
    def fatbin_targets(self) -> tuple[list[str], list[str], list[str]]:
        """(SASS targets, PTX targets, notes) of every entry of `.nv_fatbin`, one item per
        entry (duplicates kept, as cuobjdump lists them)."""
        s = self.section(".nv_fatbin")
        if s is None:
            return [], [], []
        if s.flags & SHF_COMPRESSED:
            raise ElfError(".nv_fatbin is compressed (SHF_COMPRESSED): targets not read")
        if s.offset + s.size > self.r.size:
            raise ElfError(".nv_fatbin lies outside the file (truncated?)")
        sass: list[str] = []
        ptx: list[str] = []
        notes: list[str] = []
        pos, end, entries = s.offset, s.offset + s.size, 0
        while pos + 16 <= end:
            magic, version, hsize, fsize = struct.unpack_from(
                "<IHHQ", self.r.read(pos, 16, "fatbin header"), 0
            )
            if magic != FATBIN_MAGIC:
                if magic == 0:  # padding between fatbins
                    pos += 8
                    continue
                raise ElfError(f"no fatbin header at .nv_fatbin+{pos - s.offset:#x}")
            if version != FATBIN_VERSION:
                raise ElfError(f"fatbin of unknown version {version}: targets not read")
            if hsize < 16 or pos + hsize + fsize > end:
                raise ElfError(f"fatbin at .nv_fatbin+{pos - s.offset:#x} overruns the section")
            e, stop = pos + hsize, pos + hsize + fsize
            while e + 32 <= stop:
                entries += 1
                if entries > MAX_FATBIN_ENTRIES:
                    raise ElfError(f"more than {MAX_FATBIN_ENTRIES} fatbin entries")
                head = self.r.read(e, min(64, stop - e), "fatbin entry")
                kind, _v, ehsize, psize = struct.unpack_from("<HHIQ", head, 0)
                arch = struct.unpack_from("<I", head, 28)[0]
                flags = struct.unpack_from("<Q", head, 40)[0] if len(head) >= 48 else 0
                if ehsize < 32 or e + ehsize + psize > stop:
                    raise ElfError("fatbin entry overruns its fatbin")
                suffix = "a" if flags & _FLAG_ARCH_A else ""
                if kind == KIND_ELF:
                    sass.append(f"sm_{arch}{suffix}")
                elif kind == KIND_PTX:
                    ptx.append(f"compute_{arch}{suffix}")
                else:
                    notes.append(f"fatbin entry of unknown kind {kind}")
                e += ehsize + psize
            pos = stop
        return sass, ptx, notes

    # ----------------------------------------------------- symbol lookup
    def exports(self) -> GnuHash | None:
        """A `.gnu.hash` lookup over this file's exported symbols; None without one."""
        gh = next((s for s in self.sections if s.type == SHT_GNU_HASH), None)
        if gh is None or not 0 < gh.link < len(self.sections):
            return None
        sym = self.sections[gh.link]
        if not 0 < sym.link < len(self.sections):
            return None
        return GnuHash(self, self._table(gh, ".gnu.hash"), sym, self.sections[sym.link])


class GnuHash:
    """Lookups through a GNU hash table: bloom filter, bucket, chain; a few reads each."""

    def __init__(self, elf: ElfFile, table: bytes, dynsym: Section, dynstr: Section) -> None:
        self.elf = elf
        self.dynsym = dynsym
        self.dynstr = dynstr
        end = elf.end
        if len(table) < 16:
            raise ElfError(".gnu.hash is truncated")
        self.nbuckets, self.symoffset, bloom_size, self.shift = struct.unpack_from(
            end + "IIII", table, 0
        )
        word = 8 if elf.is64 else 4
        self.word_bits = word * 8
        pos = 16
        if self.nbuckets == 0 or bloom_size == 0:
            raise ElfError(".gnu.hash has no buckets")
        need = pos + bloom_size * word + self.nbuckets * 4
        if need > len(table):
            raise ElfError(".gnu.hash is truncated")
        self.bloom = struct.unpack_from(f"{end}{bloom_size}{'Q' if word == 8 else 'I'}", table, pos)
        pos += bloom_size * word
        self.buckets = struct.unpack_from(f"{end}{self.nbuckets}I", table, pos)
        pos += self.nbuckets * 4
        count = (len(table) - pos) // 4
        self.chain = struct.unpack_from(f"{end}{count}I", table, pos)

    def has(self, name: str) -> bool:
        """Whether `name` is defined (exported) here."""
        raw = name.encode()
        h = 5381
        for c in raw:
            h = (h * 33 + c) & 0xFFFFFFFF
        bits = self.word_bits
        word = self.bloom[(h // bits) % len(self.bloom)]
        mask = (1 << (h % bits)) | (1 << ((h >> self.shift) % bits))
        if word & mask != mask:
            return False
        idx = self.buckets[h % self.nbuckets]
        if idx < self.symoffset:
            return False
        r, end = self.elf.r, self.elf.end
        entsize = 24 if self.elf.is64 else 16
        while 0 <= idx - self.symoffset < len(self.chain):
            h2 = self.chain[idx - self.symoffset]
            if h | 1 == h2 | 1:
                ent = r.read(self.dynsym.offset + idx * entsize, entsize, ".dynsym entry")
                if self.elf.is64:
                    st_name, _info, _other, shndx = struct.unpack_from(end + "IBBH", ent, 0)
                else:
                    st_name, _v, _z, _info, _other, shndx = struct.unpack_from(
                        end + "IIIBBH", ent, 0
                    )
                if shndx != 0 and st_name + len(raw) < self.dynstr.size:
                    got = r.read(self.dynstr.offset + st_name, len(raw) + 1, ".dynstr")
                    if got == raw + b"\0":
                        return True
            if h2 & 1:
                return False
            idx += 1
        return False


def _cstr(table: bytes, offset: int) -> str:
    if not 0 <= offset < len(table):
        return ""
    stop = table.find(b"\0", offset)
    return table[offset : stop if stop >= 0 else len(table)].decode("utf-8", "replace")


def open_elf(path: str) -> tuple[BinaryIO, ElfFile]:
    """Open `path` and read its headers (the caller closes the file); ElfError or OSError."""
    import os

    fh = open(path, "rb")  # noqa: SIM115 - returned to the caller, who closes it
    try:
        return fh, ElfFile(fh, os.fstat(fh.fileno()).st_size)
    except BaseException:
        fh.close()
        raise


def read_gpu_code(path: str) -> dict[str, Any]:
    """{"sass": [...], "ptx": [...], "needed": [...], "partial": note or None} for one file;
    never raises."""
    out: dict[str, Any] = {"sass": [], "ptx": [], "needed": [], "partial": None}
    try:
        fh, elf = open_elf(path)
    except (OSError, ElfError, struct.error, ValueError) as exc:
        out["partial"] = failure_note(exc)
        return out
    with fh:
        try:
            out["needed"] = elf.needed()
            sass, ptx, notes = elf.fatbin_targets()
            out["sass"], out["ptx"] = sass, ptx
            if notes:
                out["partial"] = "; ".join(sorted(set(notes)))
        except (OSError, ElfError, struct.error, ValueError) as exc:
            out["partial"] = failure_note(exc)
    return out


def failure_note(exc: BaseException) -> str:
    """Why a file could not be read, as a partial note (also probe/extensions.py's)."""
    if isinstance(exc, OSError):
        return f"cannot read: {exc.strerror or exc}"
    if isinstance(exc, ElfError):
        return str(exc)
    return f"malformed ELF ({type(exc).__name__})"
