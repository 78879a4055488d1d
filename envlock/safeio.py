"""Bounded reads of files someone else wrote: locks, facts files, fleet files, cache entries.

Only regular files are read (a FIFO would block forever, /dev/zero never ends),
and never more than a limit: a real lock is a few KiB and a facts file a few
hundred. The limits can be raised with ENVLOCK_MAX_FILE_MB for unusual fleets.
"""

from __future__ import annotations

import os
import stat

DEFAULT_LIMIT_MB = 64


class UnreadableFile(Exception):
    """Why a file was not read, as one line (the caller turns it into its own error)."""


def limit_bytes() -> int:
    raw = os.environ.get("ENVLOCK_MAX_FILE_MB", "")
    mb = int(raw) if raw.isascii() and raw.isdigit() and 0 < len(raw) < 7 else DEFAULT_LIMIT_MB
    return mb * 1024 * 1024


def read_bounded(path: str | os.PathLike[str], limit: int | None = None) -> bytes:
    """The file's bytes; UnreadableFile when it is missing, not a regular file, unreadable,
    or larger than `limit` (default: limit_bytes())."""
    limit = limit_bytes() if limit is None else limit
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then refuses it.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise UnreadableFile("not found") from None
    except IsADirectoryError:
        raise UnreadableFile("is a directory") from None
    except OSError as exc:
        raise UnreadableFile(exc.strerror or type(exc).__name__) from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise UnreadableFile("is a directory")
        if not stat.S_ISREG(st.st_mode):
            raise UnreadableFile("is not a regular file")
        if st.st_size > limit:
            raise UnreadableFile(_too_big(limit))
        os.set_blocking(fd, True)
        chunks, total = [], 0
        while True:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:  # grew while being read
                raise UnreadableFile(_too_big(limit))
        return b"".join(chunks)
    except OSError as exc:
        raise UnreadableFile(exc.strerror or type(exc).__name__) from None
    finally:
        os.close(fd)


def _too_big(limit: int) -> str:
    return f"is larger than {limit // (1024 * 1024)} MiB (raise ENVLOCK_MAX_FILE_MB to read it)"
