"""kill -9 of envlock must not leave its children running: the torch child and the
determinism suite (CPU venv, real torch import), each with the one parent watch
(envlock/probe/_parentwatch.py) served with it.

A driver process makes itself the children's subreaper, so the orphaned child is
reparented to it and its end can be read exactly: killed by the parent-death
signal (or exit 3 from the watcher), never a normal exit after finishing its work.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import clean_env

pytestmark = pytest.mark.venv

# argv: ENVLOCK-COMMAND (JSON) and the entry that names the child in its command line.
DRIVER = r"""
import ctypes, json, os, signal, subprocess, sys, time
if ctypes.CDLL(None).prctl(36, 1) != 0:  # PR_SET_CHILD_SUBREAPER
    sys.exit("no PR_SET_CHILD_SUBREAPER")
cmd, entry = json.loads(sys.argv[1]), sys.argv[2]
envlock = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

def child():
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                argv = fh.read().split(b"\0")
        except (OSError, IndexError, ValueError):
            continue
        if ppid == envlock.pid and entry.encode() in argv:
            return int(pid)
    return None

deadline = time.monotonic() + 120
found = None
while found is None and time.monotonic() < deadline and envlock.poll() is None:
    found = child()
    time.sleep(0.01)
if found is None:
    sys.exit(f"the child never started (envlock exit {envlock.poll()})")
os.kill(envlock.pid, signal.SIGKILL)
envlock.wait()
_, status = os.waitpid(found, 0)  # the orphan is ours now
print(json.dumps({
    "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
    "exit": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
}))
"""


def _end_after_killing_envlock(cmd: list[str], entry: str) -> dict[str, int | None]:
    proc = subprocess.run(
        [sys.executable, "-c", DRIVER, json.dumps(cmd), entry],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    end: dict[str, int | None] = json.loads(proc.stdout)
    return end


def _killed_by_the_watch(end: dict[str, int | None]) -> bool:
    # SIGKILL: PR_SET_PDEATHSIG; exit 3: the parent was gone before prctl took effect.
    return end == {"signal": signal.SIGKILL, "exit": None} or end == {"signal": None, "exit": 3}


def test_killed_envlock_takes_its_torch_child_with_it(cpu_python: Path, tmp_path: Path) -> None:
    cmd = [str(cpu_python), "-m", "envlock", "lock", "-o", str(tmp_path / "l.toml")]
    end = _end_after_killing_envlock(cmd, "envlock.probe._torch_child:main")
    assert _killed_by_the_watch(end), f"the torch child outlived a kill -9 of envlock: {end}"


def test_killed_envlock_takes_its_determinism_suite_with_it(cpu_python: Path) -> None:
    cmd = [sys.executable, "-m", "envlock", "determinism", "--device", "cpu"]
    end = _end_after_killing_envlock(
        [*cmd, "--python", str(cpu_python)], "envlock.determinism.suite:main"
    )
    assert _killed_by_the_watch(end), f"the suite outlived a kill -9 of envlock: {end}"
