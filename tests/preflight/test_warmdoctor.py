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

from envlock import cli, livecache, reportcache
from envlock.commands import doctor as doctor_command
from envlock.probe import _dists
from envlock.usecases import warmverify
from tests.preflight.test_livecache_keys import FakeTorch, _mig, fake
from tests.preflight.test_reportcache import recording
from tests.preflight.test_warmverify import Runs, _warm

__all__ = ["fake", "recording"]  # the fixtures, shared


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Runs:
    return Runs(monkeypatch, capsys, "doctor")


@pytest.mark.parametrize("fmt", doctor_command.FORMATS)
def test_the_answer_is_the_full_clis_output_byte_for_byte(
    fake: FakeTorch, recording: dict[str, Any], runs: Runs, fmt: str
) -> None:
    code, out, err = _warm(runs, "--format", fmt)
    assert err == "" and code in (0, 1) and out
    _dists._cache.clear()
    livecache._AHEAD.clear()
    assert cli.main(["doctor", "--format", fmt]) == code  # the full CLI alone
    assert runs.capsys.readouterr() == (out, "")


def test_the_probe_runs_once_per_run_miss_or_hit(
    fake: FakeTorch, recording: dict[str, Any], runs: Runs
) -> None:
    for n, expected_full in enumerate((1, 2, 2, 2), start=1):
        runs()
        assert (runs.full, runs.probes) == (expected_full, n)  # a miss hands its probe over


def _env_var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVLOCK_TEST_SOMETHING", "1")


def _code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "checks.py").write_text("")
    monkeypatch.setattr(reportcache, "_code_dirs", lambda: [str(code)])


def _cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    other = tmp_path / "elsewhere"
    other.mkdir()
    monkeypatch.chdir(other)


CHANGES = {
    "MIG mode (NVML, read fresh)": None,
    "an environment variable": _env_var,
    "envlock's own files": _code,
    "the working directory": _cwd,
}


@pytest.mark.parametrize("name", sorted(CHANGES))
def test_each_input_changed_runs_the_full_cli_again(
    fake: FakeTorch,
    recording: dict[str, Any],
    runs: Runs,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    _warm(runs)
    change = CHANGES[name]
    if change is None:
        _mig(recording)
    else:
        change(tmp_path, monkeypatch)
    before = runs.full
    runs()
    assert runs.full == before + 1


def test_options_are_part_of_the_key(
    fake: FakeTorch, recording: dict[str, Any], runs: Runs
) -> None:
    _warm(runs)
    for options in (["--strict"], ["--expect", "bf16"], ["--ignore", "EL-SHM-SMALL"]):
        before = runs.full
        runs(*options)
        assert runs.full == before + 1, options


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
