"""Opening files someone else put there without blocking on them (stdlib only, Python 3.8).

A FIFO listed in a wheel's RECORD, a socket, or a device named like a library
would block `open()` or `read()` forever. The host side has `envlock.safeio` for
this; the probe cannot import it (the probe package ships alone into containers
and other interpreters), hence this copy of its first step.
"""

from __future__ import annotations

import errno
import os
import stat

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import BinaryIO

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


class NotRegularFile(OSError):
    """The path is a FIFO, socket, device or directory: it was not read."""


def _check(mode: int, path: str) -> None:
    if stat.S_ISREG(mode):
        return
    what = next((name for test, name in _KINDS if test(mode)), "not a regular file")
    raise NotRegularFile(errno.EINVAL, f"{what}, not a regular file", path)


def open_regular(path: str) -> BinaryIO:
    """`path` opened for binary reading when it is a regular file; NotRegularFile (an
    OSError) for anything else, and OSError as open() raises it. Never blocks."""
    _check(os.stat(path).st_mode, path)  # a device is never even opened
    flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    # O_NONBLOCK: a FIFO swapped in after the stat above opens at once (and is refused)
    nonblock = getattr(os, "O_NONBLOCK", 0)
    fd = os.open(path, flags | nonblock | getattr(os, "O_NOCTTY", 0))
    try:
        _check(os.fstat(fd).st_mode, path)
        if nonblock:
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
