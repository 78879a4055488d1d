"""Docs and CLI agree (issue 22 item 6): the commands the documentation (the fleet page,
beside the HTML report's screenshot; the README's text until issue 22 item 10) says take
`--format html` are exactly those whose parser takes it and each writes a page; `verify`
finds envlock.lock.toml as `run` does; a target is named one way in every command."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import pytest

from envlock.cli import COMMANDS, build_parser
from envlock.lock.model import DEFAULT_LOCK_NAME
from tests.conftest import FIXTURES, REPO, run_envlock

FLEET_PAGE = REPO / "docs" / "commands" / "fleet.md"


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    return dict(parser._subparsers._group_actions[0].choices)  # type: ignore[union-attr]


def _formats(parser: argparse.ArgumentParser) -> set[str]:
    for action in parser._actions:
        if "--format" in action.option_strings:
            return set(action.choices or ())
    return set()


def html_commands() -> set[str]:
    """`envlock X` (or `envlock fleet report`) whose --format takes html."""
    found = set()
    for name, sub in _subparsers(build_parser()).items():
        if name not in COMMANDS:
            continue
        if "html" in _formats(sub):
            found.add(name)
        if sub._subparsers is not None:
            found |= {f"{name} {s}" for s, p in _subparsers(sub).items() if "html" in _formats(p)}
    return found


def test_the_docs_name_the_commands_that_write_html() -> None:
    (claim,) = re.findall(r"`--format html` \(([^)]*)\)", " ".join(FLEET_PAGE.read_text().split()))
    listed = set(re.findall(r"`(?:envlock )?([a-z]+(?: [a-z]+)?)`", claim))
    assert listed == html_commands(), claim
    # every command whose result is a findings report renders it as a page
    assert {"doctor", "verify", "fleet report", "explain", "determinism"} <= listed


def test_explain_writes_an_html_page() -> None:
    proc = run_envlock(["explain", "137", "--no-checks", "--format", "html"])
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("<!DOCTYPE html>") and "envlock explain" in proc.stdout


def test_verify_reads_envlock_lock_toml_by_default(tmp_path: Path) -> None:
    facts = FIXTURES / "facts.cpu-venv-nodriver.json"
    missing = run_envlock(["verify", "--facts", str(facts)], cwd=tmp_path)
    assert missing.returncode == 3, missing.stderr
    assert missing.stderr.strip().splitlines() == [
        f"envlock: error: lock file not found: {DEFAULT_LOCK_NAME} (create one with `envlock lock`)"
    ]
    made = run_envlock(["lock", "--facts", str(facts)], cwd=tmp_path)
    assert made.returncode == 0 and (tmp_path / DEFAULT_LOCK_NAME).is_file(), made.stderr
    proc = run_envlock(["verify", "--facts", str(facts), "--format", "json"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(proc.stdout)["command"] == "verify"
    verify = _subparsers(build_parser())["verify"]
    (lock,) = [a for a in verify._actions if a.dest == "lock"]
    assert lock.default == DEFAULT_LOCK_NAME and f"default {DEFAULT_LOCK_NAME}" in (lock.help or "")


@pytest.mark.venv
@pytest.mark.slow
def test_every_command_names_this_machine_the_same_way(cpu_python: Path) -> None:
    """doctor and determinism on the same interpreter name the same target: `host`, or
    `this docker container` where envlock runs in one (the interpreter is not the target)."""
    python = ["--python", str(cpu_python)]
    doctor = run_envlock(["doctor", *python, "--no-torch-live", "--format", "json"])
    assert doctor.returncode in (0, 1), doctor.stderr
    det = run_envlock(["determinism", *python, "--device", "cpu", "--format", "json"])
    assert det.returncode in (0, 1), det.stderr
    target = json.loads(doctor.stdout)["target"]
    assert target == "host" or re.fullmatch(r"this (\w+ )?container", target), target
    assert json.loads(det.stdout)["target"] == target
