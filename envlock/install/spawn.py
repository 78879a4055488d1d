"""An installer step started with os.posix_spawnp, not subprocess.Popen (issue 23's
restore row: the subprocess module, with selectors, signal handling and locale, is ~5-8
ms of a repeat restore's start on a busy 2-core machine, all of it before uv runs).

Child is the part of Popen that restore uses (pid, stdout as a text pipe, poll, wait,
kill, returncode), and spawn() starts a child as install/early.start_step's Popen did:
stdin /dev/null, stdout and stderr into one pipe (as a terminal interleaves them), the
program found on PATH, the environment given, SIGPIPE and SIGXFSZ back to their default
(Popen's restore_signals), no other descriptor inherited (Popen's close_fds: Python's
own are close-on-exec, any other is closed in the child).
A program that cannot run is an OSError from spawn() itself (glibc reports the exec's
failure), as it was from Popen. It imports nothing a Python start has not loaded
(_thread, _signal: not threading, signal and contextlib), for install/quick.py.
"""

from __future__ import annotations

import _signal  # type: ignore[import-not-found]  # signal's C module: no typeshed stub
import _thread
import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import TextIO


class Child:
    """A started child: `stdout` its output (text, undecodable bytes replaced)."""

    def __init__(self, pid: int, stdout: TextIO) -> None:
        self.pid = pid
        self.stdout: TextIO | None = stdout
        self.returncode: int | None = None
        self._waiting = _thread.allocate_lock()  # one waitpid at a time (Popen's _waitpid_lock)

    def _reaped(self, status: int) -> None:
        self.returncode = os.waitstatus_to_exitcode(status)

    def poll(self) -> int | None:
        """The exit status once the child ended (-N: killed by signal N), else None."""
        if self.returncode is not None or not self._waiting.acquire(blocking=False):
            return self.returncode
        try:
            if self.returncode is None:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
                if pid == self.pid:
                    self._reaped(status)
        except ChildProcessError:
            self.returncode = 0  # reaped elsewhere: its status is lost (as Popen says)
        finally:
            self._waiting.release()
        return self.returncode

    def wait(self) -> int:
        with self._waiting:
            while self.returncode is None:
                try:
                    _, status = os.waitpid(self.pid, 0)
                except ChildProcessError:
                    self.returncode = 0
                else:
                    self._reaped(status)
        return self.returncode

    def kill(self) -> None:
        """SIGKILL, unless it already ended and was reaped (its pid may be another's)."""
        if self.poll() is None:
            try:  # noqa: SIM105 (contextlib: no import before uv, install/quick.py)
                os.kill(self.pid, _signal.SIGKILL)
            except ProcessLookupError:
                pass


def spawn(argv: Sequence[str], env: Mapping[str, str]) -> Child:
    """`argv` started with stdin /dev/null and stdout and stderr into one text pipe."""
    read, write = os.pipe()  # both close-on-exec: only the dup2'ed copies reach the child
    try:
        devnull = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
        try:
            pid = os.posix_spawnp(
                argv[0],
                list(argv),
                dict(env),
                file_actions=[
                    (os.POSIX_SPAWN_DUP2, devnull, 0),
                    (os.POSIX_SPAWN_DUP2, write, 1),
                    (os.POSIX_SPAWN_DUP2, write, 2),
                    *((os.POSIX_SPAWN_CLOSE, fd) for fd in _inheritable()),
                ],
                setsigdef=(_signal.SIGPIPE, _signal.SIGXFSZ),
            )
        finally:
            os.close(devnull)
    except BaseException:
        os.close(read)
        raise
    finally:
        os.close(write)
    return Child(pid, os.fdopen(read, "r", errors="replace"))


def _inheritable() -> list[int]:
    """This process's descriptors past stderr that a child would inherit (one made
    inheritable, or given to Python that way): Popen's close_fds closes them there."""
    try:
        names = os.listdir("/proc/self/fd")
    except OSError:
        names = [str(fd) for fd in range(3, 256)]
    found = []
    for name in names:
        fd = int(name)
        try:
            if fd > 2 and os.get_inheritable(fd):
                found.append(fd)
        except OSError:
            continue  # closed meanwhile (the listing's own descriptor)
    return found
