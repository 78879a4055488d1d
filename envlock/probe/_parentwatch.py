"""A child envlock starts (the torch child, the determinism suite) exits when envlock dies.

kill -9 of envlock must not leave a child running on, holding a GPU. The parent
starts the child with `child_env()`; the child calls `exit_with_parent()` first.
Standard library only, Python 3.8: served from memory with the children's code
(envlock/probe/_served.py).
"""

from __future__ import annotations

import os

PARENT_PID_ENV = "ENVLOCK_PARENT_PID"


def child_env() -> dict[str, str]:
    """This process's environment plus its pid, for a child that calls exit_with_parent."""
    return dict(os.environ, **{PARENT_PID_ENV: str(os.getpid())})


def exit_with_parent() -> None:
    """Exit when the parent dies.

    Linux: the kernel sends SIGKILL when the parent dies (prctl PR_SET_PDEATHSIG; the
    parent starts this child from its main thread, which lives as long as it does). A
    polling thread covers other systems, between the GIL-holding parts of an import.
    """
    import threading
    import time

    # The parent passes its pid: if it died before this line, getppid() is already
    # another process (init or a subreaper), and comparing with it would miss that.
    expected = os.environ.get(PARENT_PID_ENV, "")
    parent = int(expected) if expected.isdigit() else os.getppid()
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, 9)  # PR_SET_PDEATHSIG = 1, SIGKILL = 9
    except Exception:  # not Linux, or no prctl: the thread below still watches
        pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(3)

    def watch() -> None:
        while True:
            time.sleep(0.25)
            if os.getppid() != parent:
                os._exit(3)

    threading.Thread(target=watch, name="envlock-parent-watch", daemon=True).start()
