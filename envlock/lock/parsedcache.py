"""Parsed locks, cached: an unchanged lock is read, not parsed and validated again.

`verify` runs before every training launch with the same lock; parsing it (tomllib,
the version gate, every field's grammar in `Lock.from_dict`) is the same work each
time. An entry holds the typed Lock that the lock's exact bytes gave, keyed by

- the SHA-256 of those bytes (the file is read anyway: any edit, however it keeps the
  size or mtime, is another key), and
- the reader itself: envlock's version, the interpreter's, and the size, mtime and
  inode of the modules that parse and validate a lock (an upgraded or edited envlock
  is a miss, so a rule it tightened is never skipped).

Only locks that parsed are stored (an error is raised again, the same line, by the
reader). Entries live under the directory the caller names (verify: the live-facts
cache's, `livecache.cache_dir()`), in `locks/`, written atomically and best effort, at
most `MAX_ENTRIES` of them. An entry is a pickle read by an unpickler that builds only
the lock model's own dataclasses and enums: a damaged or foreign entry is a miss,
never code run.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

from envlock.digestfacts import DeterminismFacts
from envlock.lock.model import Lock, LockHeader
from envlock.lock.version import LockVersion
from envlock.severity import Severity

FORMAT = 1
MAX_ENTRIES = 64
_MAX_ENTRY_BYTES = 16 << 20

# The modules whose classes a Lock holds (named by their classes: the unpickler's allow-list).
_MODEL_MODULES = frozenset(
    c.__module__ for c in (Lock, LockHeader, LockVersion, DeterminismFacts, Severity)
)
# The other files of the code that reads a lock, in the package (stat'ed, not imported:
# a hit needs no grammar).
_READER_FILES = (
    "__init__.py",
    "typed.py",
    "versions.py",
    "lock/io.py",
    "lock/valid.py",
    "lock/fieldmeta.py",
)


def _reader_stamp() -> bytes:
    """What changes when the code that parses a lock changes."""
    import envlock

    package = os.path.dirname(envlock.__file__ or "")
    parts = [f"{FORMAT}:{envlock.__version__}:{sys.version}"]
    model_files = sorted(str(getattr(sys.modules[m], "__file__", m)) for m in _MODEL_MODULES)
    for path in [*model_files, *(os.path.join(package, name) for name in _READER_FILES)]:
        try:
            st = os.stat(path)
            parts.append(f"{path}:{st.st_size}:{st.st_mtime_ns}:{st.st_ino}")
        except OSError:
            parts.append(f"{path}:missing")
    return "\n".join(parts).encode()


def _entry(cache_dir: str | os.PathLike[str], raw: bytes) -> Path:
    digest = hashlib.sha256(_reader_stamp() + b"\0" + raw).hexdigest()
    return Path(cache_dir) / "locks" / f"lock-{digest[:40]}.pickle"


def load(cache_dir: str | os.PathLike[str], raw: bytes) -> Lock | None:
    """The Lock these bytes parsed to before, or None (a miss, whatever went wrong)."""
    from envlock import picklecache

    return picklecache.load(
        _entry(cache_dir, raw),
        Lock,
        modules=_MODEL_MODULES,
        what="the lock model",
        limit=_MAX_ENTRY_BYTES,
    )


def store(cache_dir: str | os.PathLike[str], raw: bytes, lock: Lock) -> None:
    """Best effort: a cache that cannot be written is only a slower next run; the newest
    MAX_ENTRIES entries are kept (a lock regenerated on every CI run would otherwise
    leave one entry per run)."""
    from envlock import picklecache

    picklecache.store(_entry(cache_dir, raw), lock, keep=MAX_ENTRIES)
