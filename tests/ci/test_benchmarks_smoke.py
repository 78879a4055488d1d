"""benchmarks/run_all.py --smoke: every benchmark of issue 23's table still runs (each
row's commands once, tiny fleets; nothing is timed or compared with a target)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import REPO, VENV_ROOT, clean_env, need


@pytest.mark.slow
def test_every_benchmark_still_runs() -> None:
    need((VENV_ROOT / "torch-cuda" / "bin" / "python").exists(), "no torch-cuda venv")
    need((VENV_ROOT / "uv-13" / "bin" / "uv").exists(), "no uv venv")
    proc = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "run_all.py"), "--smoke"],
        capture_output=True,
        text=True,
        env=clean_env(),
        cwd=REPO,
        timeout=1200,
        check=False,
    )
    lines = proc.stdout.splitlines()
    assert proc.returncode == 0, proc.stdout + proc.stderr[-2000:]
    assert len(lines) >= 9 and all(line.startswith("ok  ") for line in lines), proc.stdout


def test_the_smoke_run_fails_when_a_benchmark_breaks(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The smoke check can fail: a row whose command exits with an unexpected code."""
    script = (
        "import sys; sys.path.insert(0, 'benchmarks'); import run_all\n"
        "row = run_all.Row('broken', '', 1.0, lambda tree: run_all.Cmd("
        "[sys.executable, '-c', 'raise SystemExit(3)'], {}))\n"
        "sys.exit(run_all.smoke([row], {'new': '.'}))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, check=False
    )
    assert proc.returncode == 1
    assert proc.stdout.startswith("FAILED  broken: ")
