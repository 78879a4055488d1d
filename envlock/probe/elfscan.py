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
`partial` note and whatever could be read before it. Nothing here can take long
either, whatever a file claims: only regular files are opened (never blocking on a
FIFO), one file may make us read at most MAX_FILE_BYTES, a whole scan (`Budget`)
at most MAX_SCAN_BYTES and SCAN_SECONDS, and the loops over a file's tables stop at
counts far above any real binary's (symbols, fatbins, name bytes, hash chains).

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

import array
import struct
import sys
import time

from envlock.probe._regular import NotRegularFile, open_regular

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
MAX_FATBINS = 1 << 16  # fatbin headers (and runs of padding) in one .nv_fatbin
MAX_NEEDED = 4096
MAX_DYNAMIC_ENTRIES = 1 << 16  # a real .dynamic has a few dozen
# Symbols examined in one .dynsym (libtorch_cpu.so has ~76,000; an extension a few
# thousand), the bytes of their names together, and one name (long C++ templates reach
# a few KB), and the steps of one .gnu.hash chain (a real one has a handful).
MAX_SYMBOLS = 200_000
MAX_NAME_BYTES = 32 << 20
MAX_NAME = 16 << 10
MAX_CHAIN = 1024
# Bytes read from one file's headers and tables (libtorch_cuda.so's, a 500 MB library
# with 2,975 cubins, are a few MB), and by a whole scan; the scan's time.
MAX_FILE_BYTES = 64 << 20
MAX_SCAN_BYTES = 512 << 20
SCAN_SECONDS = 20.0
# Padding between fatbins is read in chunks growing from the first to the last size.
_PAD_CHUNKS = (256, 1 << 20)
# Entry flags (cuda-fatbin-decompression): bit 13 the old LZ4 compression, bit 15 the
# newer one; the index is read either way, only the payload would need decompressing.
_FLAG_COMPRESSED = 0x2000 | 0x8000
# The arch-specific variant bit: set on sm_90a/sm_100a/sm_120a entries, the ones cuobjdump
# names with an "a" (observed on torch 2.14's libtorch_cuda.so). Bit 21, set on its
# sm_103 entries, is not part of cuobjdump's name and not of ours.
_FLAG_ARCH_A = 1 << 20


class ElfError(Exception):
    """This file cannot be read (further) as ELF: the message becomes the partial note."""


class ScanStopped(ElfError):
    """The whole scan's budget (bytes or time) is spent: no further file is examined."""


class Budget:
    """What one scan may still read, and until when; shared by every file it opens."""

    def __init__(self, seconds: float = SCAN_SECONDS, max_bytes: int = MAX_SCAN_BYTES) -> None:
        self.seconds = seconds
        self.max_bytes = max_bytes
        self.deadline = time.monotonic() + seconds
        self.used = 0
        self.stopped: str | None = None  # "20 s", "512 MiB": what ran out

    def expired(self) -> bool:
        """Whether the scan must stop: its deadline has passed or its bytes ran out."""
        if self.stopped is None and time.monotonic() > self.deadline:
            self.stopped = f"{self.seconds:g} s"
        return self.stopped is not None

    def check(self) -> None:
        """ScanStopped once the scan must stop."""
        if self.expired():
            raise ScanStopped(f"scan stopped after {self.stopped}")

    def spend(self, length: int) -> None:
        if self.stopped is None and self.used + length > self.max_bytes:
            self.stopped = _size(self.max_bytes)
        self.check()
        self.used += length


class _Reader:
    def __init__(self, fh: BinaryIO, size: int, budget: Budget) -> None:
        self.fh = fh
        self.size = size
        self.budget = budget
        self.left = MAX_FILE_BYTES

    def read(self, offset: int, length: int, what: str) -> bytes:
        if offset < 0 or length < 0 or offset + length > self.size:
            raise ElfError(f"{what} lies outside the file (truncated?)")
        if length > self.left:
            raise ElfError(
                f"{what}: stopped after reading {MAX_FILE_BYTES >> 20} MiB of this file "
                "(no real binary's headers and tables need more)"
            )
        self.budget.spend(length)
        self.left -= length
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


class ElfFile:
    """An open ELF file's header and section table; methods read the rest on demand."""

    def __init__(self, fh: BinaryIO, size: int, budget: Budget | None = None) -> None:
        self.r = _Reader(fh, size, budget if budget is not None else Budget())
        self.notes: list[str] = []  # what was read only in part (symbols past the cap)
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

    def _table(self, s: Section, what: str, limit: int | None = None) -> bytes:
        """The section's bytes; only its first `limit` bytes when it states more."""
        if s.flags & SHF_COMPRESSED:
            raise ElfError(f"{what} is compressed (SHF_COMPRESSED)")
        size = s.size if limit is None else min(s.size, limit)
        if size > MAX_TABLE_BYTES:
            raise ElfError(f"{what} of {s.size} bytes is not a real table")
        return self.r.read(s.offset, size, what)

    def _note(self, note: str) -> None:
        if note not in self.notes:
            self.notes.append(note)

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
        fmt, size = (self.end + "qQ", 16) if self.is64 else (self.end + "iI", 8)
        data = self._table(dyn, ".dynamic", MAX_DYNAMIC_ENTRIES * size)
        strtab = self._strtab(dyn.link, ".dynamic")
        out: list[str] = []
        for tag, value in struct.iter_unpack(fmt, data[: len(data) - len(data) % size]):
            if tag == DT_NULL:
                break
            if tag == DT_NEEDED and len(out) < MAX_NEEDED:
                out.append(_cstr(strtab, value))
        return out

    def _dynsym(self) -> tuple[Section, bytes, bytes] | None:
        """(.dynsym, its first MAX_SYMBOLS entries after the null one, .dynstr)."""
        sym = next((s for s in self.sections if s.type == SHT_DYNSYM), None)
        if sym is None:
            return None
        entsize = 24 if self.is64 else 16
        stated = sym.size // entsize - 1
        if stated > MAX_SYMBOLS:
            self._note(f"only the first {MAX_SYMBOLS} of {stated} dynamic symbols examined")
        data = self._table(sym, ".dynsym", (MAX_SYMBOLS + 1) * entsize)
        data = data[entsize : len(data) - len(data) % entsize]  # entry 0 is null
        return sym, data, self._strtab(sym.link, ".dynsym")

    def _symbols(self, defined: bool) -> set[str]:
        found = self._dynsym()
        if found is None:
            return set()
        _s, data, strtab = found
        if self.is64:
            entries = (
                (n, i, x) for n, i, _o, x, _v, _z in struct.iter_unpack(self.end + "IBBHQQ", data)
            )
        else:
            entries = (
                (n, i, x) for n, _v, _z, i, _o, x in struct.iter_unpack(self.end + "IIIBBH", data)
            )
        names = _Names(strtab)
        out: set[str] = set()
        for name, info, shndx in entries:
            if not name or (shndx != 0) != defined:
                continue
            # undefined: STB_GLOBAL only (STB_WEAK may be absent); defined: global or weak
            if info >> 4 == 1 or (defined and info >> 4 == 2):
                out.add(names.get(name))
                if names.spent:
                    self._note(f"symbol names past {MAX_NAME_BYTES >> 20} MiB not examined")
                    break
        return out

    def undefined_symbols(self) -> list[str]:
        """Names the dynamic loader must find elsewhere (global, not weak), sorted."""
        return sorted(self._symbols(defined=False))

    def defined_symbols(self) -> set[str]:
        """Names this object exports (global or weak, defined); for small objects and tests."""
        return self._symbols(defined=True)

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
        found = _Targets()
        pos, end, fatbins, chunk = s.offset, s.offset + s.size, 0, _PAD_CHUNKS[0]
        while pos + 16 <= end:
            fatbins += 1
            if fatbins > MAX_FATBINS:
                raise ElfError(f"more than {MAX_FATBINS} fatbins in .nv_fatbin")
            magic, version, hsize, fsize = struct.unpack_from(
                "<IHHQ", self.r.read(pos, 16, "fatbin header"), 0
            )
            if magic == 0:
                pos, chunk = self._skip_padding(pos, end, chunk)
                continue
            where = f".nv_fatbin+{pos - s.offset:#x}"
            if magic != FATBIN_MAGIC:
                raise ElfError(f"no fatbin header at {where}")
            if version != FATBIN_VERSION:
                raise ElfError(f"fatbin of unknown version {version}: targets not read")
            if hsize < 16 or pos + hsize + fsize > end:
                raise ElfError(f"fatbin at {where} overruns the section")
            self._fatbin_entries(pos + hsize, pos + hsize + fsize, found)
            pos += hsize + fsize
        return found.sass, found.ptx, found.notes

    def _skip_padding(self, pos: int, end: int, chunk: int) -> tuple[int, int]:
        """Past the zeros between fatbins at `pos`: (the next position, the next chunk).
        Skipped in 8-byte steps, read in chunks that grow while all is zeros (a hole of
        512 MiB is not 67 M reads)."""
        pad = self.r.read(pos, min(chunk, end - pos), ".nv_fatbin padding")
        zeros = len(pad) - len(pad.lstrip(b"\0"))
        pos += max(8, zeros - zeros % 8)
        chunk = min(chunk * 2, _PAD_CHUNKS[1]) if zeros == len(pad) else _PAD_CHUNKS[0]
        return pos, chunk

    def _fatbin_entries(self, e: int, stop: int, found: _Targets) -> None:
        """The entries of one fatbin, from `e` to `stop`, into `found`."""
        while e + 32 <= stop:
            found.entries += 1
            if found.entries > MAX_FATBIN_ENTRIES:
                raise ElfError(f"more than {MAX_FATBIN_ENTRIES} fatbin entries")
            head = self.r.read(e, min(64, stop - e), "fatbin entry")
            kind, _v, ehsize, psize = struct.unpack_from("<HHIQ", head, 0)
            arch = struct.unpack_from("<I", head, 28)[0]
            flags = struct.unpack_from("<Q", head, 40)[0] if len(head) >= 48 else 0
            if ehsize < 32 or e + ehsize + psize > stop:
                raise ElfError("fatbin entry overruns its fatbin")
            found.add(kind, arch, flags)
            e += ehsize + psize

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
        self.bloom = _words(table[pos : pos + bloom_size * word], word, end)
        pos += bloom_size * word
        self.buckets = _words(table[pos : pos + self.nbuckets * 4], 4, end)
        pos += self.nbuckets * 4
        self.chain = _words(table[pos : len(table) - (len(table) - pos) % 4], 4, end)

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
        for _step in range(MAX_CHAIN):
            if not 0 <= idx - self.symoffset < len(self.chain):
                return False
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
        return False  # a chain longer than any real one: not found


def _size(n: int) -> str:
    return f"{n >> 20} MiB" if n >= 1 << 20 else f"{n} bytes"


def _words(data: bytes, size: int, end: str) -> array.array[int]:
    """Unsigned words of `size` bytes in byte order `end`, kept packed (a .gnu.hash of
    64 MiB as a tuple of ints would be 600 MB)."""
    out = array.array(next(c for c in "IQL" if array.array(c).itemsize == size))
    out.frombytes(data)
    if (end == "<") != (sys.byteorder == "little"):
        out.byteswap()
    return out


class _Names:
    """Names from a string table, each decoded once, and at most MAX_NAME_BYTES in all: a
    table without NULs cannot make every symbol a copy of the rest of it."""

    def __init__(self, table: bytes) -> None:
        self.table = table
        self.seen: dict[int, str] = {}
        self.total = 0
        self.spent = False

    def get(self, offset: int) -> str:
        name = self.seen.get(offset)
        if name is None:
            name = _cstr(self.table, offset)
            self.seen[offset] = name
            self.total += len(name)
            self.spent = self.total > MAX_NAME_BYTES
        return name


def _cstr(table: bytes, offset: int) -> str:
    if not 0 <= offset < len(table):
        return ""
    limit = min(len(table), offset + MAX_NAME)
    stop = table.find(b"\0", offset, limit)
    return table[offset : stop if stop >= 0 else limit].decode("utf-8", "replace")


def open_elf(path: str, budget: Budget | None = None) -> tuple[BinaryIO, ElfFile]:
    """Open `path` and read its headers (the caller closes the file); ElfError or OSError
    (NotRegularFile for a FIFO, socket, device or directory, never opened for reading).
    `budget`: the scan's, shared by the files it opens; a fresh one by default."""
    import os

    fh = open_regular(path)
    try:
        return fh, ElfFile(fh, os.fstat(fh.fileno()).st_size, budget)
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
            notes += elf.notes
            if notes:
                out["partial"] = "; ".join(sorted(set(notes)))
        except (OSError, ElfError, struct.error, ValueError) as exc:
            out["partial"] = failure_note(exc)
    return out


def failure_note(exc: BaseException) -> str:
    """Why a file could not be read, as a partial note (also probe/extensions.py's)."""
    if isinstance(exc, NotRegularFile):
        return f"{exc.strerror}: skipped"
    if isinstance(exc, OSError):
        return f"cannot read: {exc.strerror or exc}"
    if isinstance(exc, ElfError):
        return str(exc)
    return f"malformed ELF ({type(exc).__name__})"
