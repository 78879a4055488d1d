"""Every command that probes this interpreter takes torch's live facts from the one cache
(a second doctor, report or explain imports no torch), `--no-cache` probes again, and
text that no check confirms (`explain 137`) imports no torch at all, not even in a child.

torch is tests/preflight/test_livecache_keys.py's stand-in, whose imports are counted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.preflight.test_livecache_keys import FakeTorch


@pytest.fixture
def fake(tmp_path: Path) -> FakeTorch:
    return FakeTorch(tmp_path)


def _env(fake: FakeTorch) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_"))}
    env.update(
        PYTHONPATH=os.pathsep.join((str(REPO), str(fake.site))),
        FAKE_TORCH_LOG=str(fake.log),
        FAKE_TORCH_CUDNN=str(fake.cudnn),
        ENVLOCK_CACHE_DIR=str(fake.site.parent / "cache"),
    )
    return env


def run_envlock(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`python -m envlock ARGS` in a process of its own: its path finds the stand-in."""
    return subprocess.run(
        [sys.executable, "-m", "envlock", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


def _run(fake: FakeTorch, *args: str) -> int:
    """Run `envlock ARGS`; the torch imports so far."""
    proc = run_envlock(list(args), env=_env(fake))
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    return fake.imports()


COMMANDS = {
    "doctor": ("doctor", "--format", "json"),
    "report": ("report", "--format", "json"),
    "explain (a message with checks)": ("explain", "139"),
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_second_run_takes_torch_from_the_cache(fake: FakeTorch, command: str) -> None:
    args = COMMANDS[command]
    assert _run(fake, *args) == 1
    assert _run(fake, *args) == 1  # the cache's
    assert _run(fake, *args, "--no-cache") == 2


def test_commands_share_the_cache(fake: FakeTorch) -> None:
    assert _run(fake, *COMMANDS["doctor"]) == 1
    assert _run(fake, *COMMANDS["report"]) == 1
    assert _run(fake, *COMMANDS["explain (a message with checks)"]) == 1


def test_doctor_report_says_where_torch_came_from(fake: FakeTorch) -> None:
    env = _env(fake)
    first = run_envlock(["report", "--format", "json"], env=env)
    second = run_envlock(["report", "--format", "json"], env=env)
    notes = [json.loads(p.stdout)["meta"]["notes"] for p in (first, second)]
    assert "torch live facts probed (cache miss)" in notes[0]
    assert "torch live facts from cache" in notes[1]


@pytest.mark.parametrize("code", ["137", "1", "143"])
def test_explaining_what_no_check_confirms_imports_no_torch(fake: FakeTorch, code: str) -> None:
    proc = run_envlock(["explain", code, "--format", "json"], env=_env(fake))
    assert proc.returncode == 0, proc.stderr
    assert fake.imports() == 0
    doc = json.loads(proc.stdout)
    if code == "137":  # the evidence was still read on this machine
        assert "cgroup memory limit" in json.dumps(doc)


def test_another_interpreter_is_cached_too(fake: FakeTorch, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    args = ("doctor", "--python", str(venv / "bin" / "python"), "--format", "json")
    assert _run(fake, *args) == 1
    assert _run(fake, *args) == 1
    assert _run(fake, *args, "--no-cache") == 2
