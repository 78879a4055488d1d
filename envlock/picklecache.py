"""Cache entries as pickles: the one reader and writer of the parsed-lock cache
(`lock/parsedcache.py`) and the report cache (`reportcache.py`).

An entry is read by an unpickler that builds only the dataclasses, enums and Frozen
classes (envlock/frozen.py) of the modules its cache names: a damaged or foreign entry is a miss, never code run. It is
written atomically (readers see the old entry or the new one) and best effort (a cache
that cannot be written is only a slower next run), and the directory keeps the newest
`keep` entries.
"""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import sys
from collections.abc import Set

TYPE_CHECKING = False  # typing (~5 ms) is no import of a repeat restore before its install
if TYPE_CHECKING:
    from pathlib import Path  # nor pathlib: the callers' paths
    from typing import TypeVar

    T = TypeVar("T")


class _AllowListUnpickler(pickle.Unpickler):
    """Builds the dataclasses, enums and Frozen classes (envlock/frozen.py) of `modules`
    and nothing else."""

    def __init__(self, data: bytes, modules: Set[str], what: str) -> None:
        super().__init__(io.BytesIO(data))
        self._modules = modules
        self._what = what

    def find_class(self, module: str, name: str) -> type:
        from envlock.frozen import Frozen

        found = getattr(sys.modules.get(module), name, None) if module in self._modules else None
        if isinstance(found, type) and issubclass(found, Frozen):
            return found  # before dataclasses: a repeat restore's plan is read before uv
        import dataclasses
        import enum

        if isinstance(found, type) and (
            dataclasses.is_dataclass(found) or issubclass(found, enum.Enum)
        ):
            return found
        raise pickle.UnpicklingError(f"{module}.{name} is not part of {self._what}")


def load(path: Path, kind: type[T], *, modules: Set[str], what: str, limit: int) -> T | None:
    """The `kind` stored at `path`, or None (a miss, whatever went wrong)."""
    from envlock.safeio import UnreadableFile, read_bounded

    try:
        data = read_bounded(path, limit=limit)
    except UnreadableFile:
        return None
    try:
        value = _AllowListUnpickler(data, modules, what).load()
    except Exception:  # a damaged or foreign entry (pickle raises many kinds) is a miss
        return None
    return value if isinstance(value, kind) else None


def store(path: Path, value: object, *, keep: int) -> None:
    """`value` at `path`, atomically; then the newest `keep` entries of its directory
    that share its name's prefix (up to the first '-') are kept."""
    prefix = path.name.split("-", 1)[0]
    try:
        data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        write_entry(path, data, f"{prefix}-*{path.suffix}", keep)
    except (OSError, pickle.PicklingError, TypeError, AttributeError, RecursionError):
        return


def write_entry(path: Path, data: bytes, pattern: str, keep: int) -> None:
    """`data` at `path`, atomically (readers see the old entry or this one); then the newest
    `keep` entries of `pattern` in its directory are kept. Raises OSError: the callers'
    writes are best effort. (warmverify's and warmrestore's output entries too.)"""
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name.split('-', 1)[0]}-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    prune(path.parent, pattern, keep)


def prune(directory: Path, pattern: str, keep: int) -> None:
    """Keep the newest `keep` entries (every new key would otherwise stay forever)."""
    entries = []
    for p in directory.glob(pattern):
        with contextlib.suppress(OSError):
            entries.append((p.stat().st_mtime_ns, p))
    entries.sort(reverse=True)
    for _, old in entries[keep:]:
        with contextlib.suppress(OSError):
            old.unlink()
