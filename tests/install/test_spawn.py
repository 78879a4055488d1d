"""install/spawn.py starts an installer step as subprocess.Popen did for restore (stdin
/dev/null, stdout and stderr in one text pipe, the program found on PATH, SIGPIPE back
to its default, nothing else inherited), without the subprocess module: real children."""

from __future__ import annotations

import os
import sys

import pytest

from envlock.install.spawn import spawn

ENV = {"PATH": os.environ.get("PATH", os.defpath)}


def test_both_streams_one_pipe_and_the_exit_status() -> None:
    child = spawn(["sh", "-c", "echo out; echo err >&2; cat; printf '\\377\\n'; exit 3"], ENV)
    assert child.stdout is not None
    assert list(child.stdout) == ["out\n", "err\n", "\ufffd\n"]  # cat: stdin is /dev/null
    assert child.wait() == 3 and child.poll() == 3 and child.returncode == 3
    child.stdout.close()


def test_killed_and_missing_programs() -> None:
    child = spawn(["sleep", "30"], ENV)
    assert child.poll() is None
    child.kill()
    assert child.wait() == -9
    assert child.stdout is not None
    child.stdout.close()
    child.kill()  # reaped: nothing to kill, no error
    with pytest.raises(FileNotFoundError):
        spawn(["envlock-no-such-program"], ENV)


def test_the_child_gets_default_sigpipe_and_no_other_descriptor() -> None:
    leaked = os.open(os.devnull, os.O_RDONLY)
    os.set_inheritable(leaked, True)  # as a parent may hand one down: Popen closed it
    try:
        _sigpipe_and_descriptors()
    finally:
        os.close(leaked)


def _sigpipe_and_descriptors() -> None:
    child = spawn(["sh", "-c", "grep SigIgn /proc/self/status; ls /proc/self/fd"], ENV)
    assert child.stdout is not None
    lines = list(child.stdout)
    child.stdout.close()
    assert child.wait() == 0
    ignored = int(lines[0].split()[1], 16)
    assert not ignored & (1 << (13 - 1)), "SIGPIPE ignored in the child"  # Python ignores it
    assert {int(n) for n in lines[1:]} <= {0, 1, 2, 3}  # ls's own directory at 3


def test_the_environment_is_the_one_given() -> None:
    child = spawn([sys.executable, "-c", "import os; print(os.environ.get('ENVLOCK_X'))"],
                  {**ENV, "ENVLOCK_X": "given"})  # fmt: skip
    assert child.stdout is not None
    assert child.stdout.read() == "given\n" and child.wait() == 0
    child.stdout.close()
