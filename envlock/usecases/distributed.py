"""verify --distributed: every rank verifies, the summaries are gathered through the
rendezvous, and every rank gets the same fleet Report."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from envlock.usecases.verify import VerifyOptions, verify

if TYPE_CHECKING:
    from envlock.collect import Source
    from envlock.findings import Finding, Report
    from envlock.fleet import Rendezvous
    from envlock.lock.model import Lock


def verify_distributed(
    lock: str | os.PathLike[str] | Lock,
    source: Source | None,
    *,
    options: VerifyOptions,
    timeout: float,
    on_report: Callable[[int, str, Report], None] | None,
    smoke: bool,
    smoke_timeout: float,
) -> Report:
    """This rank's verify, compared with every other rank's; with `smoke`, one
    all-reduce on the job's backend. `on_report` runs before the ranks leave together."""
    from envlock import fleet
    from envlock.catalog import DETERMINISM, FLEET, KINDS, VERIFY, validate_ignore
    from envlock.findings import DistributedDetails, Report

    skip = validate_ignore(options.ignore, VERIFY, DETERMINISM, FLEET)
    own_ignore = [i for i in skip if KINDS[i].source != FLEET]
    # every section: the ranks compare what no lock holds too (the network)
    local = verify(
        lock, source, facts=None, options=replace(options, ignore=own_ignore, sections=None)
    )
    env = fleet.torchrun_env()
    rank = env[0] if env else 0
    host = fleet.hostname()
    summary = fleet.summarize(rank, host, local.facts, local.report.findings, options.scope)
    group = fleet.Rendezvous.join(timeout=timeout)
    summaries = group.all_gather(summary)
    findings = [f for f in fleet.compare_ranks(summaries) if f.check_id not in skip]
    outcome = _smoke(group, smoke_timeout) if smoke else None
    if outcome is not None:
        findings += [f for f in outcome[0] if f.check_id not in skip]
    report = Report(
        command="verify --distributed",
        target=f"{len(summaries)} ranks",
        findings=findings,
        strict=options.strict,
        details=DistributedDetails.gathered(
            local.report.details,
            world_size=len(summaries),
            hosts=sorted({s.host for s in summaries}),
            smoke=(bool(outcome[0]), outcome[1]) if outcome is not None else None,
        ),
    )
    if on_report is not None:
        on_report(rank, host, report)
    group.leave()
    return report


def _smoke(group: Rendezvous, timeout: float) -> tuple[list[Finding], float]:
    """One all-reduce on the job's backend, before the training script starts: the
    ranks that did not complete it, and the seconds it took."""
    import time

    started = time.monotonic()
    failed = group.smoke(timeout=timeout)
    return failed, round(time.monotonic() - started, 2)
