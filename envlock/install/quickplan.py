"""The plan a restore stored for install/quick.py, found by the lock file's stat before
anything is imported (issue 23's restore row): the requirements text and what verify
reads (install/plancache.Guess), with the plan's real key, the digest of the lock's
bytes, path, options and envlock's code (plancache.key), which install/ahead.py computes
once uv runs: the guess stands only when it is this one.

One entry per lock file (its name as given, its device and inode, the installer and
interpreter), `restore/quick-*.plan` in the cache directory, replaced when the lock
changes: its size, mtime and ctime are in it, and an entry for other ones is a miss.
The entry is length-prefixed strings: neither pickle nor json (their imports are what
this path avoids), nor marshal, whose reader of a damaged length allocates and frees
gigabytes; decode() reads it in one pass, never past its bytes (tests/fuzz).
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from envlock.install.plancache import Guess

FORMAT = 1
KEEP = 32  # entries kept (install/plancache.MAX_ENTRIES)
MAX_ENTRY_BYTES = 16 << 20
_MAGIC = "envlock-quick-plan"


def cache_dir() -> str:
    """livecache.cache_dir(), as a string (pathlib is no import of this path)."""
    if os.environ.get("ENVLOCK_CACHE_DIR"):
        return os.environ["ENVLOCK_CACHE_DIR"]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "envlock")


def _identity(lock: str, st: os.stat_result) -> list[str]:
    """What an entry is for: the lock as named and its file (by its stat), the installer
    (uv) and interpreter a plain restore uses."""
    numbers = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    return [lock, "uv", sys.executable, *map(str, numbers)]


def entry_path(cache: str, lock: str, st: os.stat_result) -> str:
    """The entry's file: FNV-1a of the lock's name and file, the installer, the
    interpreter (one entry per lock file, replaced when it changes)."""
    h = 0xCBF29CE484222325
    for byte in _encode(_identity(lock, st)[:5]):
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return os.path.join(cache, "restore", f"quick-{h:016x}.plan")


def load(cache: str, lock: str) -> tuple[str, Guess] | None:
    """The plan's key and guess stored in `cache` for the lock file as it is now, or
    None (a miss, whatever went wrong)."""
    try:
        st = os.stat(lock)
    except (OSError, ValueError):
        return None
    data = read_small(entry_path(cache, lock, st), MAX_ENTRY_BYTES)
    fields = None if data is None else decode(data)
    return None if fields is None else guess_of(fields, _identity(lock, st))


def guess_of(fields: list[str], identity: list[str]) -> tuple[str, Guess] | None:
    """The key and guess in an entry's `fields` when it is one stored for `identity`:
    the header and identity, the key, the requirements, complete, pins and live (0 or
    1, a count, 0 or 1), then the sections and the rules, each a count and its items."""
    head = [_MAGIC, str(FORMAT), *identity]
    if len(fields) < len(head) + 7 or fields[: len(head)] != head:
        return None
    key, requirements, complete, pins, live = fields[len(head) : len(head) + 5]
    lists = _lists(fields[len(head) + 5 :], 2)
    if lists is None or not all(f in ("0", "1") for f in (complete, live)):
        return None
    if not (pins.isascii() and pins.isdigit() and len(pins) < 10):
        return None
    from envlock.install.plancache import Guess

    return key, Guess(requirements=requirements, complete=complete == "1", pins=int(pins),
                      sections=lists[0], live=live == "1", rules=lists[1])  # fmt: skip


def _lists(fields: list[str], count: int) -> list[tuple[str, ...]] | None:
    """`count` lists, each its length then its items, and nothing after them."""
    out: list[tuple[str, ...]] = []
    at = 0
    for _ in range(count):
        size = fields[at] if at < len(fields) else ""
        if not (size.isascii() and size.isdigit() and at + 1 + int(size) <= len(fields)):
            return None
        out.append(tuple(fields[at + 1 : at + 1 + int(size)]))
        at += 1 + int(size)
    return out if at == len(fields) else None


def store(cache: str, lock: str, st: os.stat_result, key: str, guess: Guess) -> None:
    """The entry for the lock file whose stat was `st` before its bytes were read (those
    that made `key`), atomically and best effort; the newest KEEP entries kept."""
    fields = [_MAGIC, str(FORMAT), *_identity(lock, st), key, guess.requirements,
              str(int(guess.complete)), str(guess.pins), str(int(guess.live)),
              str(len(guess.sections)), *guess.sections, str(len(guess.rules)), *guess.rules]  # fmt: skip
    path = entry_path(cache, lock, st)
    directory = os.path.dirname(path)
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(directory, exist_ok=True)
        with open(tmp, "wb") as fh:
            fh.write(_encode(fields))
        os.replace(tmp, path)  # atomic: readers see the old entry or this one
        _prune(directory)
    except (OSError, ValueError):
        import contextlib

        with contextlib.suppress(OSError):
            os.unlink(tmp)


def _encode(fields: list[str]) -> bytes:
    """Each field its UTF-8 bytes' length, a colon, the bytes (a path's undecodable
    bytes kept: surrogateescape)."""
    out = []
    for field in fields:
        data = field.encode("utf-8", "surrogateescape")
        out.append(b"%d:%s" % (len(data), data))
    return b"".join(out)


def decode(data: bytes) -> list[str] | None:
    """_encode()'s fields, or None: in one pass, never past the data (a length read
    is checked against what is there before anything is made of it)."""
    fields: list[str] = []
    at, end = 0, len(data)
    while at < end:
        colon = data.find(b":", at, at + 12)
        size = data[at:colon]
        if colon < 0 or not size.isdigit():
            return None
        start, at = colon + 1, colon + 1 + int(size)
        if at > end:
            return None
        fields.append(data[start:at].decode("utf-8", "surrogateescape"))
    return fields


def _prune(directory: str) -> None:
    entries = []
    for name in os.listdir(directory):
        if name.startswith("quick-") and name.endswith(".plan"):
            try:
                entries.append((os.stat(os.path.join(directory, name)).st_mtime_ns, name))
            except OSError:
                continue
    for _, name in sorted(entries, reverse=True)[KEEP:]:
        try:
            os.unlink(os.path.join(directory, name))
        except OSError:
            continue


def read_small(path: str, limit: int = 1024) -> bytes | None:
    """A small file's bytes (safeio's bounded read: os and stat only), or None."""
    from envlock.safeio import UnreadableFile, read_bounded

    try:
        return read_bounded(path, limit)
    except UnreadableFile:
        return None
