"""envlock report: a machine's facts and the doctor's findings as one document to paste
into a bug tracker, anonymized unless asked not to be."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from envlock.collect import Source
    from envlock.facts import Facts


@dataclass(frozen=True, kw_only=True, slots=True)
class BugReport:
    """The facts document that `doctor --facts` reads back, with the doctor's findings,
    the top one and the checks that lacked facts under "envlock_report"."""

    document: dict[str, object]

    def markdown_doc(self) -> dict[str, object]:
        """What the Markdown renderer reads: the facts, and the report's own parts."""
        meta = self.document.get("envlock_report")
        own: dict[str, object] = dict(meta) if isinstance(meta, dict) else {}
        return {
            "facts": self.document,
            "doctor": own.get("doctor"),
            "top": own.get("top"),
            "anonymized": own.get("anonymized"),
        }


def bug_report(
    source: Source | None, *, facts: Facts | None, anonymize: bool, cache: bool = False
) -> BugReport:
    """The report of `facts` (default: collected from `source`, torch's live facts from
    the live-facts cache with `cache`); `anonymize` replaces hostnames, usernames, home
    directories, GPU UUIDs and secrets as data, all through (envlock/report/anonymize.py)."""
    from envlock.checks.triage import top_finding
    from envlock.findings import DoctorDetails, ReportDetails
    from envlock.usecases.doctor import doctor

    host: Facts | None = None
    if facts is None:
        from envlock.collect import collect_facts_and_host

        facts, host = collect_facts_and_host(source, cache=cache)
    report = doctor(source, facts=facts, host=host, expect=(), ignore=(), strict=False)
    top = top_finding(report.findings)
    doctor_doc = report.to_dict()
    own = report.details
    doctor_doc["not_checked"] = list(own.not_checked) if isinstance(own, DoctorDetails) else []
    doctor_doc.pop("details", None)
    meta = ReportDetails(
        anonymized=anonymize, doctor=doctor_doc, top=top.to_dict() if top else None
    )
    doc: dict[str, object] = {**facts.to_dict(), "envlock_report": meta.to_dict()}
    if anonymize:
        doc = _anonymized(doc, source, facts, host)
    return BugReport(document=doc)


def _anonymized(
    doc: dict[str, object], source: Source | None, facts: Facts, host: Facts | None
) -> dict[str, object]:
    """`doc` with this machine's names, and those the facts hold, replaced."""
    import getpass
    import socket

    from envlock.report.anonymize import anonymize as scrub

    hostnames = [h for h in (facts.system.hostname, host.system.hostname if host else None) if h]
    usernames: list[str] = []
    homes: list[str] = []
    if source is None or not (source.pasted or source.facts_file):
        # facts of this machine: its own names are known for certain
        hostnames.append(socket.gethostname())
        import contextlib

        # no passwd entry (a container's arbitrary uid): KeyError/OSError
        with contextlib.suppress(KeyError, OSError):
            usernames.append(getpass.getuser())
        homes.append(os.path.expanduser("~"))
    out: dict[str, object] = scrub(doc, hostnames=hostnames, usernames=usernames, homes=homes)
    return out
