"""The seeded determinism suite in a child process, and its run-to-run findings."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from envlock.facts import DeterminismFacts
    from envlock.findings import Report
    from envlock.report.progress import Progress


def run_determinism(
    *,
    device: str,
    seed: int,
    python: str | None,
    timeout: float,
    strict: bool,
    progress: Progress | None = None,
) -> tuple[DeterminismFacts, Report]:
    """The suite's digests, and a Report of the classes whose two runs differ; the
    classes run are counted to `progress`."""
    from envlock.collect import local_target
    from envlock.determinism.compare import run_to_run_findings
    from envlock.determinism.runner import run_suite
    from envlock.findings import DeterminismDetails, Report
    from envlock.report.progress import SILENT

    det = run_suite(
        device=device, seed=seed, python=python, timeout=timeout, progress=progress or SILENT
    )
    report = Report(
        command="determinism",
        # the machine, named as every command names it; --python is the interpreter, not it
        target=local_target(),
        findings=run_to_run_findings(det),
        strict=strict,
        details=DeterminismDetails(determinism=det),
    )
    return det, report
