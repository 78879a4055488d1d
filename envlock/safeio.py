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


class UnwritableFile(Exception):
    """Why an output file was not written, as one line (the caller names what it wrote)."""


def write_atomic(path: str | os.PathLike[str], text: str, *, prefix: str = ".envlock-out.") -> None:
    """Write `text` to `path` atomically: a temp file beside the target, fsync, rename.

    An interrupted write keeps the old file. Only a regular file (or nothing) is
    replaced: `-o /dev/null` as root once turned the device into a file. A symlink is
    followed when its target lies inside the directory that holds the link (users
    commit such links on purpose: `envlock.lock.toml -> locks/cu126.toml`); one that
    points elsewhere (`-> /etc/cron.d/x`, run as root in CI) is refused. Every failure
    is one UnwritableFile line.
    """
    import contextlib
    import tempfile

    target = _checked_target(path)
    try:
        st: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise UnwritableFile(exc.strerror or type(exc).__name__) from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise UnwritableFile("is a directory")
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise UnwritableFile(
            "is not a regular file (a device, pipe or socket); use -o - for stdout"
        )
    directory = os.path.dirname(target)
    try:
        fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=directory)
    except OSError as exc:
        raise UnwritableFile(f"cannot create a file in {directory}: {exc.strerror}") from None
    try:
        # mkstemp creates 0600; what envlock writes is meant to be committed and read by
        # others: keep an existing file's mode, else what the umask gives a new file.
        os.chmod(tmp, stat.S_IMODE(st.st_mode) if st is not None else _umask_mode())
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise UnwritableFile(exc.strerror or type(exc).__name__) from None
        raise


def _checked_target(path: str | os.PathLike[str]) -> str:
    """The file a write to `path` lands on. A symlink (or a chain of them) must resolve
    inside the directory that holds the link; a dangling link is judged by where it
    points, so it cannot create a file elsewhere either."""
    given = os.path.abspath(os.fspath(path))
    if not os.path.islink(given):
        return os.path.realpath(given)
    holder = os.path.realpath(os.path.dirname(given))
    target = os.path.realpath(given)
    if os.path.commonpath([holder, target]) != holder:
        raise UnwritableFile(
            f"is a symlink to {target}, outside {holder}: not followed "
            "(replace the link, or write to the target's path directly)"
        )
    return target


def _umask_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
