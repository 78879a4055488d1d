"""envlock/childio.py: a child's output read as it comes, under a time limit (the one
loop the installers' progress and the determinism suite's class marks share)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from envlock.childio import stream_lines


def _child(code: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", code],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        text=True,
    )


def test_each_line_reaches_the_callback_while_the_child_still_runs(tmp_path: Path) -> None:
    # the child prints a line, then waits until the callback has seen it: a loop that
    # read the output only at the end would never see it and the limit would end the child
    go = tmp_path / "go"
    proc = _child(
        "import os, sys, time\n"
        "print('first', flush=True)\n"
        f"while not os.path.exists({str(go)!r}): time.sleep(0.01)\n"
        "print('second')\n"
        "sys.exit(3)\n"
    )
    seen: list[str] = []

    def on_line(line: str) -> None:
        seen.append(line)
        go.touch()

    assert stream_lines(proc, 60, on_line) == 3
    assert seen == ["first\n", "second\n"]
    assert proc.stdout is not None and proc.stdout.closed


def test_past_its_limit_the_child_is_killed_and_the_result_says_so() -> None:
    proc = _child("import time\nprint('started', flush=True)\ntime.sleep(120)\n")
    seen: list[str] = []
    assert stream_lines(proc, 0.5, seen.append) is None
    assert seen == ["started\n"]
    assert proc.returncode is not None  # reaped


def test_a_failing_callback_kills_and_reaps_the_child_before_it_propagates() -> None:
    proc = _child("import time\nprint('x', flush=True)\ntime.sleep(120)\n")

    def boom(line: str) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        stream_lines(proc, 60, boom)
    assert proc.returncode is not None
    assert proc.stdout is not None and proc.stdout.closed


def test_a_child_without_a_stdout_pipe_is_a_usage_error_and_is_reaped() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "pass"], stdout=subprocess.DEVNULL)
    with pytest.raises(ValueError):
        stream_lines(proc, 60, print)  # type: ignore[arg-type]
    assert proc.returncode is not None
