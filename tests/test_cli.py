"""cli.exit_code: the one mapping from a command's result to the shell's exit code."""

from __future__ import annotations

import pytest

from envlock.cli import exit_code
from envlock.errors import ExecError, ExitCode
from envlock.findings import Finding, Report, Severity


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
