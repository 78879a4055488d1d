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

import struct

from envlock.probe import fatbin
from envlock.probe._regular import NotRegularFile, open_regular
from envlock.probe.elfread import (
    MAX_FILE_BYTES,
    MAX_NAME,
    MAX_NAME_BYTES,
    MAX_SCAN_BYTES,
    MAX_TABLE_BYTES,
    SCAN_SECONDS,
    SHF_COMPRESSED,
    Budget,
    ElfError,
    Names,
    Reader,
    ScanStopped,
    Section,
    cstr,
)
from envlock.probe.fatbin import FATBIN_MAGIC
from envlock.probe.gnuhash import GnuHash

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import BinaryIO, TypedDict

    class GpuCode(TypedDict):
        """read_gpu_code's answer for one file."""

        sass: list[str]
        ptx: list[str]
        needed: list[str]
        partial: str | None


# what extensions.py and the tests read from here
__all__ = [
    "FATBIN_MAGIC",
    "MAX_FILE_BYTES",
    "MAX_NAME",
    "MAX_NAME_BYTES",
    "MAX_SCAN_BYTES",
    "MAX_SYMBOLS",
    "SCAN_SECONDS",
    "Budget",
    "ElfError",
    "ElfFile",
    "GnuHash",
    "ScanStopped",
    "failure_note",
    "open_elf",
    "read_gpu_code",
]

SHT_DYNSYM, SHT_DYNAMIC, SHT_GNU_HASH = 11, 6, 0x6FFFFFF6
DT_NULL, DT_NEEDED = 0, 1
SHN_XINDEX = 0xFFFF
# Bounds on what one file may make us read: far above any real binary's tables
# (torch's libtorch_cpu.so has ~76,000 dynamic symbols and a 5 MB .dynstr).
MAX_SECTIONS = 1 << 16
MAX_NEEDED = 4096
MAX_DYNAMIC_ENTRIES = 1 << 16  # a real .dynamic has a few dozen
# Symbols examined in one .dynsym (libtorch_cpu.so has ~76,000; an extension a few
# thousand).
MAX_SYMBOLS = 200_000


class ElfFile:
    """An open ELF file's header and section table; methods read the rest on demand."""

    def __init__(self, fh: BinaryIO, size: int, budget: Budget | None = None) -> None:
        self.r = Reader(fh, size, budget if budget is not None else Budget())
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
        return [Section(cstr(names, n), t, f, o, s, lk, e) for (n, t, f, o, s, lk, e) in raw]

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
                out.append(cstr(strtab, value))
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
        names = Names(strtab)
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
        return fatbin.targets(self.r, s)

    # ----------------------------------------------------- symbol lookup
    def exports(self) -> GnuHash | None:
        """A `.gnu.hash` lookup over this file's exported symbols; None without one."""
        gh = next((s for s in self.sections if s.type == SHT_GNU_HASH), None)
        if gh is None or not 0 < gh.link < len(self.sections):
            return None
        sym = self.sections[gh.link]
        if not 0 < sym.link < len(self.sections):
            return None
        return GnuHash(
            self.r, self.is64, self.end, self._table(gh, ".gnu.hash"), sym, self.sections[sym.link]
        )


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


def read_gpu_code(path: str) -> GpuCode:
    """{"sass": [...], "ptx": [...], "needed": [...], "partial": note or None} for one file;
    never raises."""
    out: GpuCode = {"sass": [], "ptx": [], "needed": [], "partial": None}
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
