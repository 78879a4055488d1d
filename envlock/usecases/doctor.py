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
    from envlock.catalog import DOCTOR, validate_ignore

    skip = validate_ignore(ignore, DOCTOR)
    wanted = sorted(set(expect))
    if facts is None and host is None and cache and _this_interpreter(source):
        return _cached(source, skip=skip, wanted=wanted, strict=strict)
    if facts is None:
        from envlock.collect import collect_facts_and_host

        facts, collected_host = collect_facts_and_host(source, cache=cache)
        host = host or collected_host
    return _report(source, facts, host, skip=skip, wanted=wanted, strict=strict)


def _this_interpreter(source: Source | None) -> bool:
    """The facts are this interpreter's own probe, torch's live facts cacheable."""
    return source is None or not (
        source.in_container
        or source.pasted
        or source.facts_file
        or source.python
        or not source.torch_live
    )


def _cached(
    source: Source | None, *, skip: frozenset[str], wanted: list[str], strict: bool
) -> Report:
    """The doctor's report of this interpreter; the one an earlier run gave for the same
    facts document and options when there is one (reportcache.py: the checks are pure),
    without loading the Facts model, the checks or the matrix."""
    from envlock import reportcache
    from envlock.collect import Source
    from envlock.livecache import INVALID, cache_dir, probe_document

    source = (source or Source()).checked()
    probed = probe_document(timeout=source.timeout)
    settings = repr([sorted(skip), wanted, strict, source.target]).encode()
    # the key of the document as probed (building and checking the facts may share and
    # change its values)
    key = reportcache.key("doctor", reportcache.document_bytes(probed.document), settings)
    directory = cache_dir()
    report = reportcache.load(directory, key)
    if report is None:
        report = _report(source, probed.facts(), None, skip=skip, wanted=wanted, strict=strict)
        if probed.note != INVALID:  # else the facts are not the document the key names
            reportcache.store(directory, key, report)
            probed.reused = True
    else:
        probed.reused = True  # its output may stand for the next run (warmverify.py)
    return report


def _report(
    source: Source | None,
    facts: Facts,
    host: Facts | None,
    *,
    skip: frozenset[str],
    wanted: list[str],
    strict: bool,
) -> Report:
    from envlock.catalog import DOCTOR, ids
    from envlock.checks import run_checks
    from envlock.checks.triage import top_finding
    from envlock.findings import DoctorDetails, Report

    findings = run_checks(facts, host=host, ignore=skip, expect=wanted)
    top = top_finding(findings)
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
            read_first=top.check_id if top is not None else None,
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
