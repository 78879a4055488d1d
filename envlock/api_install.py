"""The front door's way back from a lock to an environment (issue 13): its files' hashes,
the export formats, restore. Re-exported by envlock.api, where callers find them; kept
here so that the front door stays one call per function in files of a readable size.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from envlock import DISTRIBUTION

if TYPE_CHECKING:
    from envlock.facts import Facts
    from envlock.lock import Lock
    from envlock.report.progress import Progress
    from envlock.usecases.restore import RestoreOutcome


def add_hashes(
    lock: Lock,
    *,
    index: str | None = None,
    python: str | None = None,
    pylock: str | None = None,
) -> Lock:
    """The lock with [files]: sha256 of the files that fit its platform, from a resolver's
    `pylock` file where it has the locked version, else from the JSON simple API (PEP 691)
    of `index` (default: the one pip is configured with)."""
    from envlock.usecases.lock import add_hashes as _add

    return _add(lock, index=index, python=python, pylock=pylock)


def export_lock(
    lock: str | os.PathLike[str] | Lock,
    fmt: str,
    *,
    variant: str | None = None,
    torch_index: str | None = None,
    base: str | None = None,
    wheelhouse: str | None = None,
    envlock_spec: str = DISTRIBUTION,
) -> str:
    """The lock as `requirements`, `pylock` (PEP 751 TOML) or `dockerfile` text."""
    from envlock.usecases.export import ExportOptions
    from envlock.usecases.export import export_lock as _export

    options = ExportOptions(
        variant=variant,
        torch_index=torch_index,
        base=base,
        wheelhouse=wheelhouse,
        envlock_spec=envlock_spec,
    )
    return _export(lock, fmt, options)


def write_export(path: str | os.PathLike[str], text: str) -> None:
    """export_lock()'s text written as a lock is: atomically, to a regular file (or a
    symlink to a file in its own directory) only; a LockError otherwise."""
    from envlock.usecases.export import write_export as _write

    _write(path, text)


def restore_lock(
    lock: str | os.PathLike[str],
    *,
    venv: str | None = None,
    python: str | None = None,
    base_python: str | None = None,
    variant: str | None = None,
    installer: str = "auto",
    torch_index: str | None = None,
    dry_run: bool = False,
    host: Facts | None = None,
    strict: bool = False,
    ignore: Iterable[str] = (),
    log: Callable[[str], None] = lambda line: None,
    force: bool = False,
    cache: bool = False,
    progress: Progress | None = None,
) -> RestoreOutcome:
    """Install exactly the lock (into a new venv that replaces only the old one's own
    entries, and only once it verified; `force`: build beside foreign files, which stay;
    or into `python`), after holding its torch variant against this machine's driver and
    GPUs (`host`: facts of the machine to hold it against; default: probed here). `cache`
    lets torch's live facts of what was installed come from the cache; `progress` hears
    each phase and the installer's own lines (envlock.report.progress; default: silent)."""
    from envlock.usecases.restore import RestoreOptions
    from envlock.usecases.restore import restore_lock as _restore

    options = RestoreOptions(
        venv=venv,
        python=python,
        base_python=base_python,
        variant=variant,
        installer=installer,
        torch_index=torch_index,
        dry_run=dry_run,
        host=host,
        strict=strict,
        ignore=ignore,
        force=force,
        cache=cache,
    )
    return _restore(lock, options, log=log, progress=progress)
