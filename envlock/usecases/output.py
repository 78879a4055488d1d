"""Where a rendered report goes with -o FILE."""

from __future__ import annotations

import os


def write_output(path: str | os.PathLike[str], text: str) -> None:
    """Atomic, regular files only, a symlink only to a file beside it; OutputError (exit 3)
    otherwise."""
    from envlock.errors import OutputError
    from envlock.safeio import UnwritableFile, write_atomic

    try:
        write_atomic(path, text)
    except UnwritableFile as exc:
        raise OutputError(f"cannot write {os.fspath(path)}: {exc}") from None
