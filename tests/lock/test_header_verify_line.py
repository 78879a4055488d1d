"""The lock header's "Verify:" line, copied as it is, verifies what was locked (issue 21
item 12): a lock of another interpreter keeps its --python."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import run_envlock

pytestmark = pytest.mark.venv


def _as_the_shell_reads(command: str) -> list[str]:
    """The argv bash gives `command` (a ~/ expanded, quotes removed): the line is copied
    into a shell."""
    done = subprocess.run(
        ["bash", "-c", f"printf '%s\\0' {command}"], capture_output=True, check=True
    )
    return done.stdout.decode().split("\0")[:-1]


def test_header_lines_name_no_home_directory_and_expand_in_a_shell(
    cpu_python: Path, tmp_path: Path
) -> None:
    """An interpreter under the home directory is written as ~/..., outside the quotes
    (a user name is identity; a quoted ~ would not expand), and a space stays quoted."""
    home = Path.home()
    spaced = home / ".cache" / "envlock-test" / f"with space {tmp_path.name}"
    spaced.mkdir(parents=True)
    try:
        python = spaced / "python"
        python.symlink_to(cpu_python)
        lock = tmp_path / "envlock.lock.toml"
        proc = run_envlock(["lock", "--python", str(python), "--no-torch-live", "-o", str(lock)])
        assert proc.returncode == 0, proc.stderr
        lines = [x for x in lock.read_text().splitlines() if x.startswith(("# Regen", "# Verify"))]
        assert len(lines) == 2
        for line in lines:
            assert str(home) + "/" not in line, line
            argv = _as_the_shell_reads(line.split(":", 1)[1])
            assert argv[argv.index("--python") + 1] == str(python), line
    finally:
        for p in sorted(spaced.rglob("*"), reverse=True):
            p.unlink()
        spaced.rmdir()


def test_verify_line_of_a_python_lock_passes_as_copied(cpu_python: Path, tmp_path: Path) -> None:
    lock = tmp_path / "envlock.lock.toml"
    proc = run_envlock(["lock", "--python", str(cpu_python), "-o", str(lock)])
    assert proc.returncode == 0, proc.stderr
    line = next(x for x in lock.read_text().splitlines() if x.startswith("# Verify:"))
    argv = _as_the_shell_reads(line.removeprefix("# Verify:"))
    assert argv[:2] == ["envlock", "verify"]
    assert argv[argv.index("--python") + 1] == str(cpu_python)
    proc = run_envlock(argv[1:])
    assert proc.returncode == 0, proc.stdout + proc.stderr
