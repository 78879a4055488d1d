"""`envlock -q COMMAND` (issue 22, progress output): no progress on stderr, in a pipe or
on a terminal; the report on stdout and an error's one line are unchanged."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from tests.commands.test_restore_progress import _in_a_pty
from tests.conftest import FIXTURES, clean_env, run_envlock

PROGRESS = "envlock fleet report: reading the facts files"


def _nodes(tmp_path: Path, n: int = 12) -> Path:
    nodes = tmp_path / "nodes"
    nodes.mkdir()
    for i in range(n):
        shutil.copy(FIXTURES / "facts.cpu-venv-nodriver.json", nodes / f"node-{i:03d}.json")
    return nodes


def test_quiet_silences_progress_in_a_pipe_and_keeps_the_report(tmp_path: Path) -> None:
    args = ["fleet", "report", str(_nodes(tmp_path)), "--format", "json"]
    loud = run_envlock(args, process=True)
    assert loud.returncode == 0 and PROGRESS in loud.stderr, loud.stderr  # the control
    for flag in ("-q", "--quiet"):
        quiet = run_envlock([flag, *args], process=True)
        assert quiet.returncode == 0, quiet.stderr
        assert quiet.stderr == ""
        assert json.loads(quiet.stdout) == json.loads(loud.stdout)


def test_quiet_silences_the_live_display_on_a_terminal(tmp_path: Path) -> None:
    nodes = _nodes(tmp_path)
    argv = [
        sys.executable,
        "-m",
        "envlock",
        "-q",
        "fleet",
        "report",
        str(nodes),
        "--format",
        "json",
    ]
    env = clean_env(TERM="xterm-256color", COLUMNS="120")
    code, out, screen = _in_a_pty(argv, env, tmp_path / "out.json")
    assert code == 0, screen
    assert json.loads(out)["details"]["nodes"]
    assert "reading the facts files" not in screen and "\x1b[" not in screen, screen


def test_quiet_keeps_the_one_error_line(tmp_path: Path) -> None:
    proc = run_envlock(["-q", "fleet", "report", str(tmp_path / "missing")])
    assert proc.returncode == 3, proc.stderr
    (line,) = proc.stderr.splitlines()
    assert line.startswith("envlock: error: "), line


def test_quiet_in_process_does_not_outlive_the_command(tmp_path: Path) -> None:
    """In one process (the API, the suite's in-process CLI) a quiet command leaves the
    next one's progress as it was."""
    args = ["fleet", "report", str(_nodes(tmp_path)), "--format", "json"]
    assert run_envlock(["-q", *args]).stderr == ""
    assert PROGRESS in run_envlock(args).stderr
