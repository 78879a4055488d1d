"""The doctor: every check over a machine's (or an image's, or a file's) facts."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from envlock.usecases._shared import not_checked, target_of

if TYPE_CHECKING:
    from envlock.catalog import Kind
    from envlock.collect import Source
    from envlock.facts import Facts
    from envlock.findings import Report


def doctor(
    source: Source | None,
    *,
    facts: Facts | None,
    host: Facts | None,
    expect: Iterable[str],
    ignore: Iterable[str],
    strict: bool,
    cache: bool = False,
) -> Report:
    """Every doctor check over `facts` (collected from `source` when None), with `host`'s
    driver and GPUs for an image or a container (collected with the facts). `cache`:
    torch's live facts of this interpreter may come from the live-facts cache."""
    from envlock.catalog import DOCTOR, ids, validate_ignore
    from envlock.checks import run_checks
    from envlock.findings import DoctorDetails, Report

    skip = validate_ignore(ignore, DOCTOR)
    wanted = sorted(set(expect))
    if facts is None:
        from envlock.collect import collect_facts_and_host

        facts, collected_host = collect_facts_and_host(source, cache=cache)
        host = host or collected_host
    findings = run_checks(facts, host=host, ignore=skip, expect=wanted)
    return Report(
        command="doctor",
        target=target_of(source, facts),
        findings=findings,
        strict=strict,
        details=DoctorDetails(
            checks=len(ids(DOCTOR) - skip),
            ignored=tuple(sorted(skip)),
            expect=tuple(wanted),
            interpreter=_interpreter(facts),
            not_checked=(*not_checked(facts), *_checks_without_facts(facts, host, skip)),
        ),
    )


def finding_kinds() -> list[Kind]:
    """Every finding kind, the doctor's first (the others are for verify/fleet --ignore)."""
    from envlock.catalog import DOCTOR, KINDS

    return sorted(KINDS.values(), key=lambda k: (k.source != DOCTOR, k.source, k.id))


def _checks_without_facts(facts: Facts, host: Facts | None, skip: frozenset[str]) -> list[str]:
    """For partial facts (a pasted report, a fallback probe): the checks that had nothing
    to look at, so that their silence is not read as a pass."""
    if not facts.meta.partial:
        return []
    from envlock.checks.needs import missing_for

    return [f"{cid}: {why}" for cid, why in missing_for(facts, host, skip=skip).items()]


def _interpreter(facts: Facts) -> str | None:
    """The interpreter the facts describe ("/usr/bin/python3 (Python 3.11.2)")."""
    py = facts.system.python
    if py is None or not (py.executable or py.version):
        return None
    return " ".join(
        part for part in (py.executable, f"(Python {py.version})" if py.version else None) if part
    )
