"""envlock's exit (cli.leave): the exit code and every flushed byte as before, atexit's
handlers run, and no teardown of every module afterwards (20-50 ms after a container
probe), unless a non-daemon thread still runs: then the usual exit, which waits for it."""

from __future__ import annotations

import subprocess
import sys

import pytest

# An object whose finalizer writes to stderr when the interpreter tears its modules down.
_WATCH = (
    "import atexit, sys, types\n"
    "class Watch:\n"
    "    def __del__(self):\n"
    "        sys.__stderr__.write('torn down\\n')\n"
    "sys.modules['envlock_test_watch'] = types.ModuleType('w')\n"
    "sys.modules['envlock_test_watch'].w = Watch()\n"
    "atexit.register(sys.__stderr__.write, 'atexit ran\\n')\n"
)


# `python -m envlock` and the console script (cli.entry)
LAUNCHERS = {
    "python -m": "import runpy\nrunpy.run_module('envlock', run_name='__main__')\n",
    "script": "from envlock.cli import entry\nentry()\n",
}


def _envlock(
    argv: list[str], prelude: str = "", launcher: str = "python -m"
) -> subprocess.CompletedProcess[str]:
    script = _WATCH + prelude + f"sys.argv = ['envlock', *{argv!r}]\n" + LAUNCHERS[launcher]
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("launcher", sorted(LAUNCHERS))
def test_envlock_leaves_without_the_teardown_after_atexit_and_its_output(launcher: str) -> None:
    proc = _envlock(["--version"], launcher=launcher)
    assert proc.returncode == 0
    assert proc.stdout.startswith("envlock ")
    assert "atexit ran" in proc.stderr
    assert "torn down" not in proc.stderr


@pytest.mark.parametrize("launcher", sorted(LAUNCHERS))
def test_the_exit_code_is_the_commands(launcher: str) -> None:
    proc = _envlock(["explain", "--bogus-option"], launcher=launcher)
    assert proc.returncode == 2
    assert "torn down" not in proc.stderr


def test_a_non_daemon_thread_still_running_gets_the_usual_exit() -> None:
    prelude = (
        "import threading, time\n"
        "def late():\n"
        "    time.sleep(0.5)\n"
        "    sys.__stderr__.write('thread finished\\n')\n"
        "threading.Thread(target=late).start()\n"
    )
    proc = _envlock(["--version"], prelude)
    assert proc.returncode == 0
    assert "thread finished" in proc.stderr
