"""The lock header's "Verify:" line, copied as it is, verifies what was locked (issue 21
item 12): a lock of another interpreter keeps its --python."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from tests.conftest import run_envlock

pytestmark = pytest.mark.venv


def test_verify_line_of_a_python_lock_passes_as_copied(cpu_python: Path, tmp_path: Path) -> None:
    lock = tmp_path / "envlock.lock.toml"
    proc = run_envlock(["lock", "--python", str(cpu_python), "-o", str(lock)])
    assert proc.returncode == 0, proc.stderr
    line = next(x for x in lock.read_text().splitlines() if x.startswith("# Verify:"))
    argv = shlex.split(line.removeprefix("# Verify:"))
    assert argv[:2] == ["envlock", "verify"]
    assert argv[argv.index("--python") + 1] == str(cpu_python)
    proc = run_envlock(argv[1:])
    assert proc.returncode == 0, proc.stdout + proc.stderr
