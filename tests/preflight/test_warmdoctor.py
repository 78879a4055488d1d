"""The doctor's warm path (usecases/warmverify.py): a plain `envlock doctor` of an unchanged
machine writes the output the full CLI wrote for the same inputs, byte for byte and with
its exit code, before the CLI loads (the doctor's second run, issue 23); a change in any
input (NVML's state, read fresh, an option, the environment, the working directory,
envlock's own files) runs the full CLI again; anything but a plain doctor goes to it.

torch is tests/preflight/test_livecache_keys.py's stand-in, NVML a replayed H100.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from envlock.commands import doctor as doctor_command
from envlock.usecases import warmverify
from tests.preflight import warmruns
from tests.preflight.test_livecache_keys import FakeTorch, fake
from tests.preflight.test_reportcache import recording
from tests.preflight.warmruns import (
    Runs,
    assert_a_change_runs_the_full_cli,
    assert_each_option_runs_the_full_cli,
    warm,
)

__all__ = ["fake", "recording"]  # the fixtures, shared


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Runs:
    return Runs(monkeypatch, capsys, "doctor")


@pytest.mark.parametrize("fmt", doctor_command.FORMATS)
def test_the_answer_is_the_full_clis_output_byte_for_byte(
    fake: FakeTorch, recording: dict[str, Any], runs: Runs, fmt: str
) -> None:
    code, out, err = warm(runs, "--format", fmt)
    assert err == "" and code in (0, 1) and out
    assert runs.alone("--format", fmt) == (code, out, "")


def test_the_probe_runs_once_per_run_miss_or_hit(
    fake: FakeTorch, recording: dict[str, Any], runs: Runs
) -> None:
    for n, expected_full in enumerate((1, 2, 2, 2), start=1):
        runs()
        assert (runs.full, runs.probes) == (expected_full, n)  # a miss hands its probe over


CHANGES = {**warmruns.CHANGES, "the working directory": warmruns.elsewhere}


@pytest.mark.parametrize("name", sorted(CHANGES))
def test_each_input_changed_runs_the_full_cli_again(
    fake: FakeTorch,
    recording: dict[str, Any],
    runs: Runs,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
) -> None:
    assert_a_change_runs_the_full_cli(runs, recording, monkeypatch, CHANGES[name], tmp_path)


def test_options_are_part_of_the_key(
    fake: FakeTorch, recording: dict[str, Any], runs: Runs
) -> None:
    options = (["--strict"], ["--expect", "bf16"], ["--ignore", "EL-SHM-SMALL"])
    assert_each_option_runs_the_full_cli(runs, [], options)


@pytest.mark.parametrize(
    "argv",
    [
        ["doctor", "--no-cache"],
        ["doctor", "-o", "out.txt"],
        ["doctor", "--python", "/usr/bin/python3"],
        ["doctor", "--facts", "facts.json"],
        ["doctor", "--image", "debian"],
        ["doctor", "--plan", "Dockerfile"],
        ["doctor", "--list-checks"],
        ["doctor", "--format=json"],
        ["doctor", "--format"],
        ["doctor", "--expect", "--strict"],
        ["doctor", "extra"],
        ["doctor", "--str"],  # argparse's abbreviation: the full CLI reads it
        ["doctor", "-h"],
    ],
)
def test_anything_but_a_plain_doctor_goes_to_the_full_cli(argv: list[str]) -> None:
    assert not warmverify.plain_doctor(argv)
    called: list[list[str]] = []
    assert warmverify.run(argv, lambda a: called.append(a) or 0) is None
    assert not called


def test_a_plain_doctor_is_one_with_only_its_report_options() -> None:
    assert warmverify.plain_doctor(["doctor"])
    argv = ["doctor", "--format", "json", "--strict", "--expect", "bf16", "--ignore", "X"]
    assert warmverify.plain_doctor(argv)
    assert warmverify.lock_of(argv) is None
