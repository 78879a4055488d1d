"""The `extensions` section: native modules of installed distributions that link torch or CUDA.

For every installed distribution (torch itself and the nvidia-*/cuda-* library
wheels aside: they are checked elsewhere), the shared objects its RECORD lists
are opened, and those whose DT_NEEDED names libtorch*, libc10*, libcudart or
libcuda are described: the GPU code they carry (SASS and PTX targets of the
fatbin index), the CUDA major of the libcudart they link, the c10/ATen/torch
symbols they need that the installed torch does not export, the C++ ABI their
symbols show, and the file's sha256.

Stdlib only (the probe). Each file is read through its headers (elfscan.py);
the sha256 streams the file once. A `cache` dict (filled by livecache.py's
extension cache) keyed by path, size, mtime and torch's own libraries skips
all of it for an unchanged file. One unreadable file is a `partial` note on
that extension, never an exception; a FIFO, socket or device listed in a RECORD
is never opened for reading. The whole scan is bounded (elfscan.Budget: bytes
read and seconds, whatever the files claim): when it runs out, the section's
`partial` says after what and how many files were not examined.
"""

from __future__ import annotations

import os
import struct

from envlock.probe import _dists
from envlock.probe._regular import open_regular

# elfread, not elfscan (which re-exports these): an unchanged venv's scan is all cache
# hits and needs none of elfscan, fatbin, gnuhash or elf (~2-5 ms of a warm verify)
from envlock.probe.elfread import MAX_SCAN_BYTES, SCAN_SECONDS, Budget, ScanStopped
from envlock.probe.libnames import has_so_suffix

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import BinaryIO

    from envlock.probe.elfscan import ElfFile
    from envlock.probe.gnuhash import GnuHash
    from envlock.probe.shapes import ExtensionDoc, ExtensionsDoc
    from envlock.probe.statcache import StatCache

SCAN_FORMAT = 1
SKIP_DISTRIBUTIONS = frozenset({"torch"})
SKIP_PREFIXES = ("nvidia-", "cuda-")
MAX_RECORD_BYTES = 8 << 20
MAX_RECORDS_BYTES = 64 << 20  # all of one scan's (a big environment's are ~30 MB)
MAX_FILES = 20000
MAX_MISSING_LISTED = 20
# torch symbols of one extension looked up in torch's libraries (torchvision needs ~2,000)
MAX_LOOKUPS = 20_000
# Files larger than this are not hashed (the largest real extensions are ~1 GB).
MAX_HASH_BYTES = 4 << 30
# The patterns are left to re's own cache and re imported where one is used: a probe that
# lists no torch extension (a served probe in a plain image) imports no re (~3-5 ms in a
# fresh container), and one that scans compiles only what it uses
_LINKS = r"^(libtorch\w*\.so|libc10\w*\.so|libcudart\b|libcuda\.so)"
# libcudart.so.13; auditwheel's vendored copies: libcudart-d0da41ae.so.11.0, libcudart.faf08d9a.so.13
# (a major of at most 6 ASCII digits: 5,000 digits would crash int())
_CUDART = r"^libcudart(?:[.-][0-9a-f]{8})?\.so\.([0-9]{1,6})(?![0-9])"
# Names torch's libraries export: C++ in the c10, at, torch and caffe2 namespaces (functions,
# methods, vtables, typeinfo), and the C stable ABI (aoti_torch_*, torch_*) that
# extensions such as torchvision 0.29 use instead.
_TORCH_SYMBOL = r"^(?:_Z(?:N|NK|TV|TI|TS)N?K?(?:3c10|2at|5torch|6caffe2)|aoti_torch_|torch_)"
# std::string in the old (pre-C++11) ABI: the "Ss" substitution as a parameter type.
_OLD_ABI = ("RSs", "PSs", "RKSs", "PKSs")  # what re.search(r"(?:RK|PK|R|P)Ss", s) found


def torch_libraries(torch_dir: str | None) -> list[str]:
    """torch's own libc10*/libtorch* libraries, where an extension's torch symbols live."""
    if not torch_dir:
        return []
    lib = os.path.join(torch_dir, "lib")
    try:
        names = sorted(os.listdir(lib))
    except OSError:
        return []
    return [
        os.path.join(lib, n)
        for n in names
        if n.startswith(("libc10", "libtorch")) and has_so_suffix(n)
    ]


def _stat_key(path: str) -> str | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return f"{path}:{st.st_size}:{st.st_mtime_ns}"


def collect(
    path: list[str] | None = None,
    *,
    torch_dir: str | None = None,
    cache: dict[str, ExtensionDoc] | None = None,
    timeout: float = SCAN_SECONDS,
    max_bytes: int = MAX_SCAN_BYTES,
    files: StatCache | None = None,
) -> ExtensionsDoc:
    """The `extensions` section dict. `cache`: entries by file key, read and filled.
    `timeout`, `max_bytes`: the scan's budget (seconds; bytes of headers and tables).
    `files`: the shared objects each RECORD lists, by the RECORD's stat (this host's
    probe: probe/statcache.py)."""
    if torch_dir is None:
        from envlock.probe.torch_info import find_torch

        torch_dir = find_torch(path)
    budget = Budget(timeout, max_bytes)
    libs = torch_libraries(torch_dir)
    torch_key = "|".join(k for k in (_stat_key(p) for p in libs) if k)
    found, listed, unlisted = _files_to_scan(path, files)
    items, scanned = _scan(found, libs, torch_key, cache, budget)
    notes = []
    if budget.stopped is not None:
        notes.append(
            f"scan stopped after {budget.stopped}: {listed - scanned} of {listed} "
            "files not examined"
        )
    elif listed > len(found):
        notes.append(f"only the first {MAX_FILES} of {listed} files examined")
    if unlisted:
        notes.append(
            f"RECORDs past {MAX_RECORDS_BYTES >> 20} MiB not read: {unlisted} distributions "
            "not examined"
        )
    return {
        "unavailable": None,
        "files_scanned": scanned,
        "torch_libraries": len(libs),
        "items": items,
        "partial": "; ".join(notes) or None,
    }


def _files_to_scan(
    path: list[str] | None, cache: StatCache | None = None
) -> tuple[list[tuple[str, _dists.Dist, str]], int, int]:
    """(the first MAX_FILES shared objects the RECORDs list, with their distribution; how
    many they list; how many distributions were not read, past MAX_RECORDS_BYTES)."""
    files: list[tuple[str, _dists.Dist, str]] = []
    listed = unlisted = record_bytes = 0
    for name, dist in sorted(_dists.distributions(path, cache).items()):
        if name in SKIP_DISTRIBUTIONS or name.startswith(SKIP_PREFIXES):
            continue
        if record_bytes > MAX_RECORDS_BYTES:  # thousands of 8 MiB RECORDs: not a real site
            unlisted += 1
            continue
        found, size = _native_files_by_stat(dist)
        record_bytes += size
        for full in found:
            listed += 1
            if len(files) < MAX_FILES:
                files.append((name, dist, full))
    return files, listed, unlisted


def _scan(
    files: list[tuple[str, _dists.Dist, str]],
    libs: list[str],
    torch_key: str,
    cache: dict[str, ExtensionDoc] | None,
    budget: Budget,
) -> tuple[list[ExtensionDoc], int]:
    """(the items of the files that link torch or CUDA, how many files were examined),
    until the budget runs out."""
    lookup = _TorchExports(libs, budget)
    items: list[ExtensionDoc] = []
    scanned = 0
    try:
        for name, dist, full in files:
            if budget.expired():
                break
            key = _stat_key(full)
            scanned += 1
            if key is None:
                continue
            key = f"{SCAN_FORMAT}:{key}:{torch_key}"
            entry = _cached_scan(full, key, cache, lookup if libs else None, budget)
            if entry is None:  # cut short before it was seen to link anything
                scanned -= 1
                continue
            if entry.get("links"):
                items.append({"distribution": name, "version": dist.version, **entry})
    finally:
        lookup.close()
    return items, scanned


def _cached_scan(
    full: str,
    key: str,
    cache: dict[str, ExtensionDoc] | None,
    lookup: _TorchExports | None,
    budget: Budget,
) -> ExtensionDoc | None:
    """The file's entry, from the cache or scanned (and cached); None when the scan was
    cut short before the file was seen to link torch or CUDA (not examined)."""
    entry = cache.get(key) if cache is not None else None
    if isinstance(entry, dict):
        return entry
    entry = scan_file(full, lookup, budget)
    if budget.stopped is not None:
        # cut short: not cached, and kept only when it was seen to link torch/CUDA
        return None if entry.get("links") in ([], ["(unreadable)"]) else entry
    if cache is not None:
        cache[key] = entry
    return entry


def _native_files_by_stat(dist: _dists.Dist) -> tuple[list[str], int]:
    """native_files(), from the distribution's file cache while its RECORD's stat is
    unchanged (the RECORD's size in characters rides as the list's last item)."""
    if dist.files is None:
        return native_files(dist)

    def listing() -> list[str]:
        found, size = native_files(dist)
        return [*found, str(size)]

    value = dist.by_stat("record", os.path.join(dist.path, "RECORD"), listing)
    if not value or not value[-1].isdigit():  # not what listing() stores: read it again
        return native_files(dist)
    return value[:-1], int(value[-1])


def native_files(dist: _dists.Dist) -> tuple[list[str], int]:
    """(absolute paths of the shared objects the distribution's RECORD lists, the
    RECORD's size in characters)."""
    if not dist.path.endswith(".dist-info"):
        return [], 0
    text = _read_record(os.path.join(dist.path, "RECORD"))
    base = os.path.dirname(dist.path)
    out: list[str] = []
    for line in text.splitlines():
        rel = line.split(",", 1)[0].strip().strip('"')
        if rel and has_so_suffix(rel):
            out.append(os.path.normpath(os.path.join(base, rel)))
    return out, len(text)


def _read_record(path: str) -> str:
    """A RECORD's text (at most MAX_RECORD_BYTES); "" when it is not a readable file."""
    try:
        with open_regular(path) as fh:
            return fh.read(MAX_RECORD_BYTES).decode("utf-8", "replace")
    except OSError:
        return ""


def scan_file(
    path: str, lookup: _TorchExports | None, budget: Budget | None = None
) -> ExtensionDoc:
    """One file's entry (without distribution and version); never raises. `budget`: the
    scan's (a fresh one by default)."""
    import re

    from envlock.probe.elfscan import ElfError, open_elf

    budget = budget if budget is not None else Budget()
    entry: ExtensionDoc = {"file": path, "links": [], "partial": None}
    notes: list[str] = []
    try:
        fh, elf = open_elf(path, budget)
    except ScanStopped:
        return {"file": path, "links": []}  # not examined: the caller says so
    except (OSError, ElfError, struct.error, ValueError) as exc:
        # not ELF at all (a text stub named .so) is not an extension; anything else is
        return _unreadable(entry, exc)
    with fh:
        try:
            needed = elf.needed()
        except (OSError, ElfError, struct.error, ValueError) as exc:
            return _unreadable(entry, exc)
        links = [n for n in needed if re.match(_LINKS, n)]
        if not links:
            return {"file": path, "links": []}
        entry["links"] = links
        majors = [int(m.group(1)) for n in needed if (m := re.match(_CUDART, n))]
        entry["cuda_major"] = majors[0] if majors else None
        _read_targets(elf, entry, notes)
        undefined = _read_undefined(elf, notes)
        notes += elf.notes
        _check_torch_symbols(entry, undefined, lookup, notes)
    _read_hash(entry, path, budget, notes)
    entry["partial"] = "; ".join(dict.fromkeys(notes)) or None
    return entry


def _read_targets(elf: ElfFile, entry: ExtensionDoc, notes: list[str]) -> None:
    """The SASS and PTX targets of the file's fatbin index into `entry` (none when it
    cannot be read: a note says why)."""
    from envlock.probe.elfscan import ElfError

    try:
        sass, ptx, odd = elf.fatbin_targets()
        entry["sass"] = _targets(sass)
        entry["ptx"] = _targets(ptx)
        notes += odd
    except (OSError, ElfError, struct.error, ValueError) as exc:
        entry["sass"], entry["ptx"] = [], []
        notes.append(_note(exc))


def _read_undefined(elf: ElfFile, notes: list[str]) -> list[str]:
    """The symbols the file needs from elsewhere ([] when they cannot be read: a note)."""
    from envlock.probe.elfscan import ElfError

    try:
        return elf.undefined_symbols()
    except (OSError, ElfError, struct.error, ValueError) as exc:
        notes.append(_note(exc))
        return []


def _check_torch_symbols(
    entry: ExtensionDoc,
    undefined: list[str],
    lookup: _TorchExports | None,
    notes: list[str],
) -> None:
    """The torch symbols the file needs, its C++ ABI, and (with `lookup`) those of its
    torch symbols the installed torch does not export, into `entry`."""
    import re

    torch_symbol = re.compile(_TORCH_SYMBOL)  # re's cache: compiled once a process
    torch_syms = [s for s in undefined if torch_symbol.match(s)]
    entry["torch_symbols"] = len(torch_syms)
    entry["cxx11_abi"] = _abi(undefined)
    if lookup is None:
        entry["missing_torch_symbols"] = []
        entry["missing_torch_symbols_total"] = None  # no torch to check against
        return
    missing = _missing_symbols(lookup, torch_syms, notes)
    entry["missing_torch_symbols"] = missing[:MAX_MISSING_LISTED]
    entry["missing_torch_symbols_total"] = len(missing)
    notes += lookup.notes


def _missing_symbols(lookup: _TorchExports, torch_syms: list[str], notes: list[str]) -> list[str]:
    """The first MAX_LOOKUPS of `torch_syms` that torch's libraries do not export (those
    looked up before the scan's budget ran out)."""
    if len(torch_syms) > MAX_LOOKUPS:
        notes.append(
            f"only the first {MAX_LOOKUPS} of {len(torch_syms)} torch symbols "
            "looked up in torch's libraries"
        )
    missing = []
    lookup.begin_file()
    try:
        for s in torch_syms[:MAX_LOOKUPS]:
            if lookup.has(s) is False:  # None: a library could not tell
                missing.append(s)
    except ScanStopped as exc:
        notes.append(_note(exc))
    return missing


def _read_hash(entry: ExtensionDoc, path: str, budget: Budget, notes: list[str]) -> None:
    """The file's size and sha256 into `entry` (a note when it is not hashed)."""
    from envlock.probe.elfscan import ElfError

    try:
        entry["size"] = os.path.getsize(path)
        entry["sha256"] = _sha256(path, budget)
        if entry["sha256"] is None:
            notes.append(f"not hashed: larger than {MAX_HASH_BYTES >> 30} GiB")
    except (OSError, ElfError) as exc:
        notes.append(_note(exc))


def _unreadable(entry: ExtensionDoc, exc: BaseException) -> ExtensionDoc:
    note = _note(exc)
    if note == "not an ELF file":
        return {"file": entry["file"], "links": []}
    # a file that claims to be ELF but cannot be read: keep it, with the note
    entry["links"] = ["(unreadable)"]
    entry["partial"] = note
    entry["sass"], entry["ptx"] = [], []
    try:
        entry["size"] = os.path.getsize(entry["file"])
    except OSError:
        entry["size"] = None
    return entry


def _note(exc: BaseException) -> str:
    from envlock.probe.elfscan import failure_note

    return failure_note(exc)


def _targets(names: list[str]) -> list[str]:
    def order(t: str) -> tuple[int, str]:
        digits = "".join(c for c in t if c.isdecimal())  # re.sub(r"\D", "", t)
        return (int(digits) if digits else 0, t)

    return sorted(set(names), key=order)


def _abi(symbols: list[str]) -> bool | None:
    """True: built with the C++11 ABI (std::__cxx11 names among the symbols it needs);
    False: the old std::string ("Ss") and no __cxx11; None: its symbols do not tell."""
    if any("cxx11" in s for s in symbols):
        return True
    if any(abi in s for s in symbols for abi in _OLD_ABI):
        return False
    return None


def _sha256(path: str, budget: Budget) -> str | None:
    """The file's sha256, read within the scan's time; None for a file over MAX_HASH_BYTES.
    OSError, ScanStopped when the time runs out."""
    import hashlib  # only for a file not scanned before: OpenSSL loads in ~3 ms

    h = hashlib.sha256()
    with open_regular(path) as fh:
        if os.fstat(fh.fileno()).st_size > MAX_HASH_BYTES:
            return None
        while True:
            budget.check()
            chunk = fh.read(1 << 20)
            if not chunk:
                break
            h.update(chunk)
    return "sha256:" + h.hexdigest()


class _TorchExports:
    """Lookups of symbol names in torch's libraries, each opened once, on first use."""

    def __init__(self, libs: list[str], budget: Budget | None = None) -> None:
        self.libs = libs
        self.budget = budget if budget is not None else Budget()
        self._opened: list[GnuHash | set[str]] | None = None
        self._files: list[BinaryIO] = []
        self._elves: list[ElfFile] = []
        self.notes: list[str] = []

    def begin_file(self) -> None:
        """Each extension's lookups get a full per-file read allowance in torch's libraries
        (they are one file for the budget, but read for every extension)."""
        from envlock.probe.elfscan import MAX_FILE_BYTES

        for elf in self._elves:
            elf.r.left = MAX_FILE_BYTES

    def _open(self) -> list[GnuHash | set[str]]:
        from envlock.probe.elfscan import ElfError, open_elf

        tables: list[GnuHash | set[str]] = []
        for lib in self.libs:
            try:
                fh, elf = open_elf(lib, self.budget)
            except ScanStopped:
                raise
            except (OSError, ElfError, struct.error, ValueError) as exc:
                self.notes.append(f"torch library {os.path.basename(lib)}: {_note(exc)}")
                continue
            self._files.append(fh)
            self._elves.append(elf)
            try:
                table = elf.exports()
                tables.append(table if table is not None else elf.defined_symbols())
            except ScanStopped:
                raise
            except (OSError, ElfError, struct.error, ValueError) as exc:
                self.notes.append(f"torch library {os.path.basename(lib)}: {_note(exc)}")
        return tables

    def has(self, name: str) -> bool | None:
        """Whether a torch library exports `name`; None when one could not be read to tell.
        ScanStopped when the scan's budget runs out."""
        from envlock.probe.elfscan import ElfError

        if self._opened is None:
            self._opened = self._open()
        unknown = False
        for table in self._opened:
            try:
                if (name in table) if isinstance(table, set) else table.has(name):
                    return True
            except ScanStopped:
                raise
            except (OSError, ElfError, struct.error, ValueError) as exc:
                note = f"torch symbol lookup: {_note(exc)}"
                if note not in self.notes:
                    self.notes.append(note)
                unknown = True
        return None if unknown else False

    def close(self) -> None:
        for fh in self._files:
            fh.close()
        self._files = []
