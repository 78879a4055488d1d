"""Long work shows progress on stderr (issue 22 item 5), for the real CLI in a process of
its own: `lock --hashes` counts the projects asked of the index, `fleet report` the files
read; in a pipe one plain line per step (no carriage return, no escape sequence, a count
every tenth), on a terminal rich's display; stdout stays the report (JSON parses)."""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import pytest

from tests.commands.test_restore import tiny_venv
from tests.commands.test_restore_progress import _in_a_pty
from tests.conftest import FIXTURES, clean_env, run_envlock
from tests.install.fakeindex import FakeIndex

__all__ = ["tiny_venv"]  # the fixture, shared with test_restore


def _fleet_dir(tmp_path: Path, n: int) -> Path:
    nodes = tmp_path / "nodes"
    nodes.mkdir()
    for i in range(n):
        shutil.copy(FIXTURES / "facts.cpu-venv-nodriver.json", nodes / f"node-{i:03d}.json")
    return nodes


def _counts(stderr: str, prefix: str) -> list[tuple[int, int]]:
    return [(int(a), int(b)) for a, b in re.findall(rf"^{prefix}.*: (\d+)/(\d+)$", stderr, re.M)]


def test_fleet_report_counts_the_files_read_in_a_pipe(tmp_path: Path) -> None:
    nodes = _fleet_dir(tmp_path, 40)
    proc = run_envlock(["fleet", "report", str(nodes), "--format", "json"], process=True)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["details"]["nodes"]  # progress is not on stdout
    counts = _counts(proc.stderr, "envlock fleet report: reading the facts files in ")
    assert counts[0] == (1, 40) and counts[-1] == (40, 40), proc.stderr
    assert [d for d, _ in counts] == sorted({d for d, _ in counts})  # in order, no repeats
    assert len(counts) <= 12  # one line a tenth, not one a file
    assert "\r" not in proc.stderr and "\x1b" not in proc.stderr


def test_fleet_report_on_a_terminal_shows_rich_progress(tmp_path: Path) -> None:
    nodes = _fleet_dir(tmp_path, 40)
    argv = [sys.executable, "-m", "envlock", "fleet", "report", str(nodes), "--format", "json"]
    env = clean_env(TERM="xterm-256color", COLUMNS="120")
    code, out, screen = _in_a_pty(argv, env, tmp_path / "out.json")
    assert code == 0, screen
    assert json.loads(out)["details"]["nodes"]
    assert "\x1b[" in screen  # a live display: cursor moves and colours
    assert f"envlock fleet report: \u2714 reading the facts files in {nodes} (40/40)" in screen


@pytest.mark.venv
@pytest.mark.slow
def test_lock_hashes_counts_the_projects_asked_of_the_index(
    tiny_venv: Path, tmp_path: Path
) -> None:
    index = FakeIndex(versions={"six": "1.17.0", "idna": "3.10"})
    try:
        out = tmp_path / "l.toml"
        args = ["lock", "--python", str(tiny_venv), "--hashes", "--no-torch-live", "-o", str(out)]
        proc = run_envlock(args, env=clean_env(PIP_INDEX_URL=index.url), process=True)
    finally:
        index.close()
    assert proc.returncode == 0, proc.stderr
    counts = _counts(proc.stderr, "envlock lock: projects asked of the index")
    assert counts == [(1, 2), (2, 2)], proc.stderr
    assert "\r" not in proc.stderr and "\x1b" not in proc.stderr


@pytest.mark.venv
@pytest.mark.slow
def test_determinism_counts_its_classes_in_order(cpu_python: Path) -> None:
    from envlock.determinism import CLASSES

    args = ["determinism", "--python", str(cpu_python), "--device", "cpu", "--format", "json"]
    proc = run_envlock(args, process=True)
    assert proc.returncode in (0, 1), proc.stderr
    assert json.loads(proc.stdout)["command"] == "determinism"  # progress is not on stdout
    n = 2 * len(CLASSES)
    shown = re.findall(
        r"^envlock determinism: determinism class (\w+): (\d+)/(\d+)$", proc.stderr, re.M
    )
    assert [(name, int(i), int(t)) for name, i, t in shown] == [
        (name, i + 1, n) for i, name in enumerate(CLASSES * 2)
    ], proc.stderr
    assert "\r" not in proc.stderr and "\x1b" not in proc.stderr
