"""The CI scripts under failure, with fake system commands first on PATH: .ci/run names
the step that failed and stops its background venv jobs; provision-docker.sh waits for
an apt/dpkg lock that another apt holds instead of failing with exit 100."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

from tests.conftest import REPO

# What provision-docker.sh needs besides the commands faked here.
TOOLS = ("id", "sort", "seq", "sleep", "tail", "mkdir", "dirname", "setsid", "env", "cat", "grep")
TOOLS += ("mktemp", "rm", "pgrep", "kill", "date", "touch", "wc")


def _bin(tmp: Path, fakes: dict[str, str]) -> Path:
    """A PATH directory holding only the real tools above and the given fake scripts."""
    bin_dir = tmp / "bin"
    bin_dir.mkdir()
    for tool in TOOLS:
        real = shutil.which(tool)
        if real:
            (bin_dir / tool).symlink_to(real)
    (bin_dir / "bash").symlink_to(shutil.which("bash") or "/bin/bash")
    for name, body in fakes.items():
        path = bin_dir / name
        path.write_text("#!/bin/bash\n" + body)
        path.chmod(0o755)
    return bin_dir


def _env(bin_dir: Path, **extra: str) -> dict[str, str]:
    env = {"PATH": str(bin_dir), "HOME": os.environ.get("HOME", "/root"), "CI": "true"}
    env.update(extra)
    return env


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


def test_apt_lock_held_by_another_apt_is_waited_for(tmp_path: Path) -> None:
    calls = tmp_path / "apt-calls"
    fakes = {
        # busy twice (another apt holds the lock: apt's exit 100), then it works
        "apt-get": f"""echo "$*" >> {calls}
n=$(cat {calls} | wc -l)
if [ "$n" -le 2 ]; then
  echo "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 4242 (apt-get)" >&2
  exit 100
fi
touch {tmp_path}/installed
""",
        "docker": f'[ -e {tmp_path}/installed ] && [ "$1" = info ]',
    }
    bin_dir = _bin(tmp_path, fakes)
    proc = subprocess.run(
        ["bash", str(REPO / ".ci/provision-docker.sh")],
        capture_output=True,
        text=True,
        env=_env(bin_dir, ENVLOCK_APT_RETRY_S="0.1"),
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    lines = calls.read_text().splitlines()
    assert [ln.split()[-2:] for ln in lines[:3]] == [["update", "-qq"]] * 3
    assert any("install" in ln for ln in lines[3:])
    assert "lock is held (held by process 4242 (apt-get)); waiting" in proc.stderr
    assert "a Docker daemon already answers" in proc.stderr


def test_other_apt_failures_are_not_retried(tmp_path: Path) -> None:
    calls = tmp_path / "apt-calls"
    fakes = {
        "apt-get": f'echo "$*" >> {calls}; echo "E: Unable to locate package nope" >&2; exit 100',
        "docker": "exit 1",
    }
    bin_dir = _bin(tmp_path, fakes)
    proc = subprocess.run(
        ["bash", str(REPO / ".ci/provision-docker.sh")],
        capture_output=True,
        text=True,
        env=_env(bin_dir, ENVLOCK_APT_RETRY_S="0.1"),
        timeout=60,
        check=False,
    )
    assert proc.returncode == 100
    assert len(calls.read_text().splitlines()) == 1
    assert "Unable to locate package" in proc.stderr


def test_ci_run_names_the_failed_step_and_stops_its_venv_jobs(tmp_path: Path) -> None:
    """The venvs are still being built (a fake python that sleeps) when the docker step
    fails: .ci/run says which step failed and leaves no venv job running."""
    pids = tmp_path / "venv-pids"
    fakes = {
        "python3": f"""case "$*" in
  *"pip install"*) exit 0 ;;
  *"-m venv"*) echo $$ >> {pids}; exec sleep 300 ;;
  *--version*) echo "Python 3.11.7" ;;
  *) exit 1 ;;
esac
""",
        # every tool provision-docker.sh needs is there, but no daemon ever answers
        "docker": "exit 1",
        "dockerd": "exit 1",
        "debootstrap": "exit 0",
        "docker-registry": "exit 0",
    }
    bin_dir = _bin(tmp_path, fakes)
    ci = tmp_path / "checkout"
    shutil.copytree(REPO / ".ci", ci / ".ci")
    try:
        # a venv job left running holds the output pipe open: the run never ends
        proc = subprocess.run(
            ["bash", str(ci / ".ci/run")],
            capture_output=True,
            text=True,
            env=_env(
                bin_dir,
                ENVLOCK_TEST_VENVS=str(tmp_path / "venvs"),
                ENVLOCK_DOCKERD_WAIT_S="1",
                ENVLOCK_DOCKERD_LOG=str(tmp_path / "dockerd.log"),
            ),
            timeout=30,
            check=False,
        )
        assert proc.returncode != 0
        out = proc.stdout + proc.stderr
        assert "FAILED in step 'docker engine' (exit 1)" in out, out
        started = [int(p) for p in pids.read_text().split()]
        assert len(started) == 3, out  # the venv jobs (torch-cpu, torch-cuda, uv-13) started
        deadline = time.monotonic() + 10
        while any(_alive(p) for p in started) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [p for p in started if _alive(p)], "venv jobs still running after the failure"
    finally:  # leave nothing behind, whatever happened
        for p in (int(p) for p in pids.read_text().split()) if pids.exists() else ():
            if _alive(p):
                os.kill(p, 9)
