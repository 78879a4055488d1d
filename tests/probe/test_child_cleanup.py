"""kill -9 of envlock must not leave its torch child running (CPU venv, real torch import)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import clean_env

pytestmark = pytest.mark.venv


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            out.append(int(entry.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_killed_envlock_takes_its_torch_child_with_it(cpu_python: Path, tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [str(cpu_python), "-m", "envlock", "lock", "-o", str(tmp_path / "l.toml")],
        env=clean_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    child = None
    while child is None and time.monotonic() < deadline:
        kids = [k for k in _children(proc.pid) if "ENVLOCK-TORCH-LIVE" in _cmdline(k)]
        child = kids[0] if kids else None
        time.sleep(0.02)
    assert child is not None, "the torch child never started"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    # The child would finish importing torch in a few seconds and then exit anyway;
    # one second is well before that (it polls for its parent four times a second).
    deadline = time.monotonic() + 1.0
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(child), "the torch child outlived a kill -9 of envlock"


def _cmdline(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_text().replace("\0", " ")
    except OSError:
        return ""
