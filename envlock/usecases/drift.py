"""What preflight raises when the environment drifted from the lock (or the doctor found an
error): the Report, and a message listing the problems that fail it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, TypedDict

from envlock.errors import EnvlockError, ExitCode

if TYPE_CHECKING:
    from envlock.findings import Report


class CheckOptions(TypedDict, total=False):
    """The options preflight() passes on to check()."""

    scope: str
    strict: bool
    determinism: bool | None
    doctor: bool
    use_cache: bool
    ignore: Iterable[str]
    timeout: float


class EnvironmentDriftError(EnvlockError):
    """The environment differs from the lock, or the doctor found an error. `.report` has why."""

    exit_code = ExitCode.FINDINGS

    def __init__(self, report: Report) -> None:
        from envlock.findings import Severity, VerifyDetails

        self.report = report
        lock = report.details.lock if isinstance(report.details, VerifyDetails) else None
        bad = [
            f
            for f in report.sorted_findings()
            if f.severity >= (Severity.WARNING if report.strict else Severity.ERROR)
        ]
        lines = [f"envlock pre-flight failed: {len(bad)} problem(s) with {lock}"]
        lines += [
            f"  [{f.check_id}] {f.message}" + (f" (fix: {f.fix})" if f.fix else "") for f in bad
        ]
        super().__init__("\n".join(lines))
