"""The doctor's checks, keyed by their ID in envlock/catalog.py, and the function that runs them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from envlock.catalog import DOCTOR, KINDS, validate_ignore
from envlock.checks.context import EXPECTATIONS, CheckContext
from envlock.checks.shells import for_windows
from envlock.errors import UsageError
from envlock.facts import Facts
from envlock.findings import Finding
from envlock.matrix import Matrix, load_matrix

CheckFunc = Callable[[CheckContext], Iterable[Finding]]


@dataclass(frozen=True, kw_only=True, slots=True)
class Check:
    id: str  # stable: users --ignore it, CI greps for it; title and severity in the catalog
    func: CheckFunc


CHECKS: dict[str, Check] = {}


def check(check_id: str) -> Callable[[CheckFunc], CheckFunc]:
    """Register a check function under its catalog ID."""

    def register(func: CheckFunc) -> CheckFunc:
        kind = KINDS.get(check_id)
        if kind is None or kind.source != DOCTOR:
            raise RuntimeError(f"check {check_id} is not a doctor ID in envlock/catalog.py")
        if check_id in CHECKS:
            raise RuntimeError(f"duplicate check ID {check_id}")
        CHECKS[check_id] = Check(id=check_id, func=func)
        return func

    return register


def run_checks(
    facts: Facts,
    *,
    host: Facts | None = None,
    ignore: Iterable[str] = (),
    matrix: Matrix | None = None,
    expect: Iterable[str] = (),
) -> list[Finding]:
    """Every registered check over `facts` (plus `host` facts for a container), in ID order.

    `ignore`: doctor IDs to skip (an unknown one is a UsageError). `expect` names what
    the job will use ("bf16", "deterministic"): checks that only matter then report
    at a higher level.
    """
    skip = validate_ignore(ignore, DOCTOR)
    expected = frozenset(expect)
    unknown = sorted(expected - EXPECTATIONS)
    if unknown:
        raise UsageError(f"unknown expectation(s) {', '.join(unknown)}")
    ctx = CheckContext(facts=facts, host=host, matrix=matrix or load_matrix(), expect=expected)
    findings: list[Finding] = []
    for check_id in sorted(CHECKS):
        if check_id in skip:
            continue
        for finding in CHECKS[check_id].func(ctx):
            if finding.check_id != check_id:  # a check reports only under its own ID
                raise RuntimeError(f"check {check_id} emitted {finding.check_id}")
            findings.append(for_windows(finding) if ctx.os_name == "windows" else finding)
    return findings
