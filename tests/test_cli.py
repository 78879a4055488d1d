"""cli.exit_code: the one mapping from a command's result to the shell's exit code."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from envlock.cli import exit_code
from envlock.errors import ExecError, ExitCode
from envlock.findings import Finding, Report, Severity
from tests.conftest import FIXTURES, run_envlock


def _report(severity: Severity | None, *, strict: bool = False) -> Report:
    findings = (
        []
        if severity is None
        else [Finding(check_id="EL-SHM-SMALL", severity=severity, message="small /dev/shm")]
    )
    return Report(command="doctor", target="host", findings=findings, strict=strict)


@pytest.mark.parametrize(
    ("outcome", "code"),
    [
        (None, ExitCode.OK),
        (_report(None), ExitCode.OK),
        (_report(Severity.INFO, strict=True), ExitCode.OK),
        (_report(Severity.WARNING), ExitCode.OK),
        (_report(Severity.WARNING, strict=True), ExitCode.FINDINGS),
        (_report(Severity.ERROR), ExitCode.FINDINGS),
        (ExitCode.FINDINGS, ExitCode.FINDINGS),
    ],
)
def test_exit_code(outcome: Report | ExitCode | None, code: ExitCode) -> None:
    assert exit_code(outcome) is code


def test_codes_outside_0_4_are_in_the_enum() -> None:
    assert ExitCode.EXEC_FAILED == 126 and ExecError.exit_code is ExitCode.EXEC_FAILED
    assert ExitCode.INTERRUPTED == 130


def test_run_of_a_missing_command_exits_127_as_a_shell_does(tmp_path: Path) -> None:
    proc = run_envlock(["run", "--lock", str(tmp_path / "x.lock"), "--", "envlock-nosuchcmd"])
    assert proc.returncode == 127 == ExitCode.NOT_FOUND, proc.stderr
    assert "command not found: envlock-nosuchcmd" in proc.stderr
    shell = subprocess.run(["sh", "-c", "envlock-nosuchcmd"], capture_output=True, check=False)
    assert shell.returncode == proc.returncode


def test_verify_of_a_facts_file_names_the_file_not_the_host(tmp_path: Path) -> None:
    facts = FIXTURES / "facts.cpu-venv-nodriver.json"
    lock = tmp_path / "envlock.lock.toml"
    assert run_envlock(["lock", "--facts", str(facts), "-o", str(lock)]).returncode == 0
    for fmt in ("text", "json"):
        proc = run_envlock(["verify", str(lock), "--facts", str(facts), "--format", fmt])
        assert proc.returncode == 0, proc.stderr
        assert f"facts:{facts}" in proc.stdout and "(host)" not in proc.stdout
    shown = run_envlock(["probe", "--facts", str(facts)])
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith(f"envlock probe: facts:{facts} (recorded on: host)")


def test_a_signal_wrapped_by_an_import_is_still_a_signal_exit() -> None:
    """SIGTERM landing while dataclasses builds a class (during a lazy import) reached the
    CLI as a RuntimeError from __set_name__: a traceback and exit 4 instead of 143."""
    from envlock.cli import interrupt_in_chain
    from envlock.errors import Signalled

    try:
        try:
            raise Signalled(15)
        except Signalled as inner:
            raise RuntimeError("Error calling __set_name__") from inner
    except RuntimeError as wrapped:
        found = interrupt_in_chain(wrapped)
    assert isinstance(found, Signalled) and found.signum == 15
    assert interrupt_in_chain(RuntimeError("a bug")) is None
