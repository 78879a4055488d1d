"""verify's warm path (usecases/warmverify.py): a plain `envlock verify` of an unchanged
machine writes the output the full CLI wrote for the same inputs, byte for byte and with
its exit code, before the CLI loads; a change in any input (NVML's state, read fresh, the
lock's bytes, an option, the environment, the working directory, envlock's own files) runs
the full CLI again; the probe runs once per run, miss or hit; only what the report cache
would keep is stored.

torch is tests/preflight/test_livecache_keys.py's stand-in, NVML a replayed H100.
"""

from __future__ import annotations

import dataclasses
import os
import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from envlock import api, collect, reportcache
from envlock.commands import verify as verify_command
from envlock.facts import DeterminismFacts
from envlock.lock.io import dumps_lock
from envlock.usecases import verify as verify_usecase
from envlock.usecases import warmverify
from tests.conftest import REPO
from tests.preflight import warmruns
from tests.preflight.test_livecache_keys import FakeTorch, fake
from tests.preflight.test_reportcache import recording
from tests.preflight.warmruns import (
    Runs,
    assert_a_change_runs_the_full_cli,
    assert_each_option_runs_the_full_cli,
    elsewhere,
    warm,
)

__all__ = ["fake", "recording"]  # the fixtures, shared

LOCK = "envlock.lock.toml"


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Runs:
    return Runs(monkeypatch, capsys)


def _lock(path: Path) -> Path:
    api.write_lock(path)
    return path


def _drifted(path: Path) -> Path:
    lock = api.make_lock()
    assert lock.torch is not None
    torch = dataclasses.replace(lock.torch, version="1.0.0")
    path.write_text(dumps_lock(dataclasses.replace(lock, torch=torch)))
    return path


@pytest.mark.parametrize("fmt", ["text", "json", "github", "junit"])
@pytest.mark.parametrize("make", [_lock, _drifted], ids=["unchanged", "drifted"])
def test_the_answer_is_the_full_clis_output_byte_for_byte(
    fake: FakeTorch,
    recording: dict[str, Any],
    runs: Runs,
    tmp_path: Path,
    fmt: str,
    make: Callable[[Path], Path],
) -> None:
    lock = str(make(tmp_path / LOCK))
    code, out, err = warm(runs, lock, "--format", fmt)
    assert (code, err) == ((0, "") if make is _lock else (1, ""))
    assert runs.alone(lock, "--format", fmt) == (code, out, "")


def test_the_probe_runs_once_per_run_miss_or_hit(
    fake: FakeTorch, recording: dict[str, Any], runs: Runs, tmp_path: Path
) -> None:
    lock = str(_lock(tmp_path / LOCK))
    for n, expected_full in enumerate((1, 2, 2, 2), start=1):
        runs(lock)
        assert (runs.full, runs.probes) == (expected_full, n)  # a miss hands its probe over


def _edit_lock(where: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lock = where / LOCK
    lock.write_text(lock.read_text().replace("[torch]", "# a comment\n[torch]", 1))


def _cwd(where: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (elsewhere(where, monkeypatch) / LOCK).write_bytes((where / LOCK).read_bytes())


CHANGES = {
    **warmruns.CHANGES,
    "the lock's bytes": _edit_lock,
    "the working directory (the same lock bytes)": _cwd,
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
    _lock(tmp_path / LOCK)
    assert_a_change_runs_the_full_cli(runs, recording, monkeypatch, CHANGES[name], tmp_path, LOCK)


def test_options_are_part_of_the_key(
    fake: FakeTorch, recording: dict[str, Any], runs: Runs, tmp_path: Path
) -> None:
    lock = str(_lock(tmp_path / LOCK))
    options = (["--strict"], ["--scope", "software"], ["--ignore", "EL-VERIFY-NOT-LOCKED"])
    assert_each_option_runs_the_full_cli(runs, [lock], options)


@pytest.mark.parametrize(
    "argv",
    [
        ["doctor", "--no-cache"],  # a plain doctor is answered too: test_warmdoctor.py
        ["verify", "x.toml", "--no-cache"],
        ["verify", "x.toml", "-o", "out.txt"],
        ["verify", "x.toml", "--python", "/usr/bin/python3"],
        ["verify", "x.toml", "--format=json"],
        ["verify", "x.toml", "--format"],
        ["verify", "x.toml", "--ignore", "--strict"],
        ["verify", "a.toml", "b.toml"],
        ["verify", "--", "x.toml"],
        ["verify", "x.toml", "--distributed"],
        ["verify", "-h"],
    ],
)
def test_anything_but_a_plain_verify_goes_to_the_full_cli(argv: list[str]) -> None:
    assert warmverify.lock_of(argv) is None
    called: list[list[str]] = []
    assert warmverify.run(argv, lambda a: called.append(a) or 0) is None
    assert not called


def test_a_plain_verify_names_its_lock() -> None:
    assert warmverify.lock_of(["verify"]) == verify_command.DEFAULT_LOCK_NAME
    argv = ["verify", "--format", "json", "l.toml", "--strict", "--rule", "env.*=warn"]
    assert warmverify.lock_of(argv) == "l.toml"


def test_a_terminal_goes_to_the_full_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    class Terminal:
        buffer = None

        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdout", Terminal())
    assert warmverify.run(["verify", str(tmp_path / "l.toml")], lambda a: 0) is None


def test_what_the_report_cache_would_not_keep_is_not_stored(
    fake: FakeTorch, recording: dict[str, Any], runs: Runs, tmp_path: Path
) -> None:
    """Fresh determinism digests (read more than the lock and facts), an unreadable lock
    (exit 3, on stderr): the full CLI every time."""
    lock = api.make_lock()
    digests = DeterminismFacts(seed=0, suite_version=1, device="cuda")
    path = tmp_path / LOCK
    path.write_text(dumps_lock(dataclasses.replace(lock, determinism=digests)))
    for _ in range(3):
        runs(str(path))
    assert runs.full == 3
    bad = tmp_path / "bad.toml"
    bad.write_text("[torch\n")
    for _ in range(2):
        code, _, err = runs(str(bad))
        assert code == 3 and err.startswith("envlock: error:")
    assert runs.full == 5
    reports = Path(os.environ["ENVLOCK_CACHE_DIR"]) / "reports"
    assert not list(reports.glob("output-*"))


def test_an_output_too_large_to_load_is_not_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reportcache, "MAX_ENTRY_BYTES", 1000)
    warmverify.store(tmp_path, "a" * 64, 0, b"x" * 900)
    assert warmverify.load(tmp_path, "a" * 64) == (0, b"x" * 900)
    warmverify.store(tmp_path, "b" * 64, 0, b"x" * 1000)
    assert len(list((tmp_path / "reports").glob("output-*.out"))) == 1


def test_a_damaged_or_foreign_entry_is_a_miss(tmp_path: Path) -> None:
    key = "a" * 64
    warmverify.store(tmp_path, key, 1, b"FAIL\n")
    assert warmverify.load(tmp_path, key) == (1, b"FAIL\n")
    entry = next((tmp_path / "reports").glob("output-*.out"))
    good = entry.read_bytes()
    for damaged in (good[:-1], good.replace(b" 1 ", b" 7 "), b"junk", good.replace(b"a", b"b")):
        entry.write_bytes(damaged)
        assert warmverify.load(tmp_path, key) is None
    assert warmverify.load(tmp_path, "b" * 64) is None


def test_the_cache_keys_sha256_is_hashlibs() -> None:
    import hashlib

    for data in (b"", b"abc", bytes(range(256)) * 100):
        h = reportcache.new_sha256()
        h.update(data)
        assert h.hexdigest() == hashlib.sha256(data).hexdigest()


def test_the_constants_it_repeats_are_the_clis() -> None:
    assert warmverify.PROBE_TIMEOUT_S == collect.PROBE_TIMEOUT_S
    assert warmverify._DEFAULT_LOCK == verify_command.DEFAULT_LOCK_NAME
    assert verify_usecase.VerifyOptions().sections == warmverify.LOCKED_SECTIONS


def test_a_warm_verify_answers_before_the_cli_loads(fake: FakeTorch, tmp_path: Path) -> None:
    """What the warm path is for: `python -m envlock verify` of an unchanged machine loads
    neither argparse, the CLI, the API, the Report model nor a renderer (nor typing,
    tempfile, ast or hashlib's OpenSSL: ~20 ms together), and prints what the full CLI
    printed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_"))}
    env["PYTHONPATH"] = os.pathsep.join((str(REPO), str(fake.site)))
    lock = str(_lock(tmp_path / LOCK))
    code = (
        "import runpy, sys\n"
        "before = set(sys.modules)  # what site loaded (a .pth may load typing)\n"
        "sys.argv = ['envlock', 'verify', sys.argv[1]]\n"
        "try:\n"
        "    runpy.run_module('envlock', run_name='__main__', alter_sys=True)\n"
        "except SystemExit as exc:\n"
        "    rc = exc.code\n"
        "heavy = ('argparse', 'envlock.cli', 'envlock.api', 'envlock.findings',\n"
        "         'envlock.report.', 'envlock.commands', 'rich', 'typing', 'tempfile', 'ast',\n"
        "         'hashlib', '_hashlib')\n"
        "new = set(sys.modules) - before\n"
        "loaded = [m for m in new if m.startswith(heavy) or m == 'envlock.report']\n"
        "print(rc, sorted(loaded), file=sys.stderr)\n"
    )
    runs = [
        subprocess.run(
            [sys.executable, "-c", code, lock], env=env, capture_output=True, cwd=tmp_path
        )
        for _ in range(3)  # torch probed, then from the live-facts cache, then warm
    ]
    assert runs[1].stdout == runs[2].stdout
    assert runs[1].stdout.startswith((b"PASS", b"FAIL")), runs[1].stdout + runs[1].stderr
    assert b"'argparse'" in runs[1].stderr.strip().splitlines()[-1]  # the full CLI ran
    assert runs[2].stderr.strip().splitlines()[-1] == b"0 []", runs[2].stderr


@pytest.mark.parametrize("reader", [" | true", " | head -c1 >/dev/null"])
def test_a_reader_that_leaves_early_changes_no_exit_code(
    fake: FakeTorch, tmp_path: Path, reader: str
) -> None:
    """The stored output written to a pipe its reader closed: the report's exit code, and
    no word about the pipe (as the full CLI: tests/test_pipes.py). An output its reader
    left is never stored (it may be cut short)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_"))}
    env["PYTHONPATH"] = os.pathsep.join((str(REPO), str(fake.site)))
    lock = _drifted(tmp_path / LOCK)
    cmd = f"{shlex.quote(sys.executable)} -m envlock verify {shlex.quote(str(lock))}"

    def run(shell: str) -> str:
        script = f'{shell}; echo "status=$? envlock=${{PIPESTATUS[0]}}" >&2'
        done = subprocess.run(
            ["bash", "-o", "pipefail", "-c", script],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=120,
        )
        return done.stderr

    assert run(cmd + " | true") == run(cmd + " | true") == "status=1 envlock=1\n"
    reports = Path(os.environ["ENVLOCK_CACHE_DIR"]) / "reports"
    assert not list(reports.glob("output-*.out"))  # its reader left: not stored
    assert run(cmd + " >/dev/null") == "status=1 envlock=1\n"  # stored now
    (stored,) = reports.glob("output-*.out")
    assert run(cmd + reader) == "status=1 envlock=1\n"  # answered from it
    # (proof it was: the stored exit code, edited, is the one the shell sees)
    head, _, body = stored.read_bytes().partition(b"\n")
    stored.write_bytes(head.replace(b" 1 ", b" 0 ") + b"\n" + body)
    assert run(cmd + reader) == "status=0 envlock=0\n"
