"""Signals around a probe container: envlock's own (Ctrl-C, SIGTERM and SIGHUP end in
the container's removal, and a second one cannot interrupt that), and the exit
statuses that say a signal killed the probe."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

# Exit statuses of a probe killed by a signal (128 + the signal's number).
KILLED = {
    137: "SIGKILL: docker kill, docker stop timeout, or out of memory",
    143: "SIGTERM: docker stop",
    130: "SIGINT",
}


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """Turn SIGTERM/SIGHUP into KeyboardInterrupt so `finally` removes the container."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _raise(signum: int, _frame: object) -> None:
        from envlock.errors import Signalled

        raise Signalled(signum)

    old = {s: signal.signal(s, _raise) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)


@contextlib.contextmanager
def uninterrupted() -> Iterator[None]:
    """Cleanup must finish: a second Ctrl-C must not leave the container behind. A signal
    that lands during the cleanup is held, not dropped: once the cleanup is done it ends
    the command as it would have (130 for Ctrl-C, 128 + N for SIGTERM/SIGHUP), unless the
    command is already ending on another exception."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []

    def _hold(signum: int, _frame: object) -> None:
        held.append(signum)

    sigs = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    old = {s: signal.signal(s, _hold) for s in sigs}
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)
    if held:
        from envlock.errors import Signalled

        if held[0] == signal.SIGINT:
            raise KeyboardInterrupt
        raise Signalled(held[0])
