"""`lock --hashes-from`: [files] from a resolver's PEP 751 lock (pylock.*.toml), read as
hostile input (bounded size and nesting, validated by packaging.pylock); a file whose
hash or URL the lock reader would refuse makes the pylock an error."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from envlock.errors import RestoreError, first_line
from envlock.install.fetch import MAX_DEPTH
from envlock.install.files import locked_file
from envlock.lock.model import Lock, LockedFile

if TYPE_CHECKING:
    from packaging.pylock import Pylock


def _pylock_document(path: str) -> Pylock:
    """A pylock file read as hostile input: bounded size, bounded nesting, validated by
    packaging.pylock; RestoreError (one line) otherwise."""
    from packaging.pylock import Pylock, PylockValidationError

    from envlock.lock.model import _deeper_than
    from envlock.safeio import UnreadableFile, read_bounded

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib

    too_deep = f"{path}: not a valid pylock file: nested deeper than {MAX_DEPTH} levels"
    try:
        text = read_bounded(path).decode("utf-8")
        data = tomllib.loads(text)
    except UnreadableFile as exc:
        raise RestoreError(f"{path}: {first_line(exc)}") from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise RestoreError(f"{path}: not a valid pylock file: {first_line(exc)}") from None
    except RecursionError:  # tomllib recurses once per level of arrays and inline tables
        raise RestoreError(too_deep) from None
    if _deeper_than(data, MAX_DEPTH):
        raise RestoreError(too_deep)
    try:
        return Pylock.from_dict(data)
    except PylockValidationError as exc:
        raise RestoreError(f"{path}: not a valid pylock file: {first_line(exc)}") from None


def files_from_pylock(path: str, lock: Lock) -> dict[str, tuple[LockedFile, ...]]:
    """[files] from a resolver's PEP 751 lock next to the project (pylock.*.toml): the
    files it names for exactly the locked versions; the rest come from the index. A file
    whose hash or URL the lock reader would refuse makes the pylock an error."""
    from packaging.utils import canonicalize_name

    doc = _pylock_document(path)
    wanted = {**lock.packages, **lock.tools}
    out: dict[str, tuple[LockedFile, ...]] = {}
    for package in doc.packages:
        name = canonicalize_name(package.name)
        if name not in wanted or package.version is None:
            continue
        if str(package.version) != wanted[name]:
            continue
        files = []
        for f in [*(package.wheels or ()), *((package.sdist,) if package.sdist else ())]:
            if not f.url or "sha256" not in f.hashes:
                continue
            fname = f.name or f.url.rsplit("/", 1)[-1]
            try:
                # absolute URLs only: a pylock's relative ones are relative to its own file
                files.append(locked_file(fname, None, f.url, f.hashes["sha256"]))
            except RestoreError as exc:
                raise RestoreError(f"{path}: file {fname!r} of {name}: {exc}") from None
        if files:
            out[name] = tuple(sorted(files, key=lambda f: f.name))
    return out
