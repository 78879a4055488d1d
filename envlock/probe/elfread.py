"""Reading a file someone else wrote as ELF, bounded (stdlib only, the probe): the scan's
Budget (bytes and time, shared by every file it opens), one file's Reader (at most
MAX_FILE_BYTES, never past its end), section records and string-table names. The ELF
structures are read in elfscan.py, the fatbin index in fatbin.py, symbol lookups in
gnuhash.py."""

from __future__ import annotations

import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    import array
    from typing import BinaryIO

SHF_COMPRESSED = 0x800
MAX_TABLE_BYTES = 64 << 20
# Symbol names: the bytes of all of them together, and one name (long C++ templates
# reach a few KB).
MAX_NAME_BYTES = 32 << 20
MAX_NAME = 16 << 10
# with 2,975 cubins, are a few MB), and by a whole scan; the scan's time.
MAX_FILE_BYTES = 64 << 20
MAX_SCAN_BYTES = 512 << 20
SCAN_SECONDS = 20.0


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
            self.stopped = size_text(self.max_bytes)
        self.check()
        self.used += length


class Reader:
    """One file's reads: within the file, within MAX_FILE_BYTES, paid from the scan's budget."""

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


def size_text(n: int) -> str:
    return f"{n >> 20} MiB" if n >= 1 << 20 else f"{n} bytes"


def words(data: bytes, size: int, end: str) -> array.array[int]:
    """Unsigned words of `size` bytes in byte order `end`, kept packed (a .gnu.hash of
    64 MiB as a tuple of ints would be 600 MB). array is imported here: it imports
    collections (~3 ms of a fresh container), and a probe that scans no ELF file (a served
    probe in a plain image) needs neither."""
    import array

    out = array.array(next(c for c in "IQL" if array.array(c).itemsize == size))
    out.frombytes(data)
    if (end == "<") != (sys.byteorder == "little"):
        out.byteswap()
    return out


class Names:
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
            name = cstr(self.table, offset)
            self.seen[offset] = name
            self.total += len(name)
            self.spent = self.total > MAX_NAME_BYTES
        return name


def cstr(table: bytes, offset: int) -> str:
    if not 0 <= offset < len(table):
        return ""
    limit = min(len(table), offset + MAX_NAME)
    stop = table.find(b"\0", offset, limit)
    return table[offset : stop if stop >= 0 else limit].decode("utf-8", "replace")
