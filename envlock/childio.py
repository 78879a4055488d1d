"""A child's output read as it comes, under a time limit: the one loop behind the
installers' progress (install/restore.py) and the determinism suite's class marks
(determinism/runner.py).

Each line of the child's stdout goes to a callback as soon as the child writes it; a
timer kills the child at its limit (the loop then ends at the pipe's EOF); whatever ends
the reading (the callback raising, Ctrl-C) kills and reaps the child before it
propagates, and the pipe is always closed. Starting the child stays the caller's: who it
is, where its stderr goes and what a failure to start says differ.

The limit's watcher is a bare _thread thread waiting on a lock the loop releases when it
ends, not threading.Timer: threading (~0.7 ms of import, its Thread objects) is no import
of a replayed repeat restore (issue 23's restore row).
"""

from __future__ import annotations

import _thread

TYPE_CHECKING = False  # typing (~2-3 ms with warnings) is no import of a replayed restore
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import IO, Protocol

    class Streamed(Protocol):
        """What the loop needs of a child: a subprocess.Popen, or install/spawn.Child (a
        repeat restore starts uv without the subprocess module)."""

        @property
        def stdout(self) -> IO[str] | None: ...

        def wait(self) -> int: ...

        def kill(self) -> None: ...


def stream_lines(proc: Streamed, timeout: float, on_line: Callable[[str], None]) -> int | None:
    """Read `proc`'s stdout (a text pipe) line by line into `on_line` until it ends; its
    exit status, or None when `timeout` seconds passed first and it was killed."""
    expired: list[bool] = []
    ended = _thread.allocate_lock()
    ended.acquire()  # released when the reading ends: the watcher then stops waiting
    limit = max(0.0, min(float(timeout), _thread.TIMEOUT_MAX))

    def watch() -> None:
        if not ended.acquire(timeout=limit):
            expired.append(True)
            try:  # noqa: SIM105 (contextlib: no import of a replayed restore)
                proc.kill()
            except OSError:
                pass  # it ended meanwhile

    # a bare thread never holds the exit, as the daemon timer it replaces
    _thread.start_new_thread(watch, ())
    try:
        if proc.stdout is None:
            raise ValueError("stream_lines needs the child's stdout as a pipe")
        for line in proc.stdout:
            on_line(line)
        code = proc.wait()
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    finally:
        ended.release()
        if proc.stdout is not None:
            proc.stdout.close()
    return None if expired else code
