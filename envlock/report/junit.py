"""JUnit XML: one test case per check or verified field, so CI test tabs show drift."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import TextIO

from envlock.findings import Finding, Report, Severity
from envlock.report.safe import plain


def _case_name(f: Finding) -> str:
    return plain(f.field if f.field is not None else f.check_id, newlines=False)


MAX_CASES = 2000


def render_junit(report: Report, out: TextIO) -> None:
    fails = Severity.WARNING if report.strict else Severity.ERROR
    cases: list[tuple[str, Finding | None]] = [(_case_name(f), f) for f in report.sorted_findings()]
    # Checked-and-clean items appear as passing cases, so a green run is visible too.
    for name in report.details.get("passed", []):
        cases.append((plain(name, newlines=False), None))
    # Bounded: a million-GPU facts file once made 2.4 GB of XML. The rest are summarised
    # in one case that fails when any of them fails; --format json has every finding.
    omitted = cases[MAX_CASES:]
    cases = cases[:MAX_CASES]
    if omitted:
        worst = max((f.severity for _, f in omitted if f is not None), default=None)
        summary = Finding(
            check_id=next((f.check_id for _, f in omitted if f is not None), "EL-VERIFY-DRIFT"),
            severity=worst if worst is not None else Severity.INFO,
            message=f"{len(omitted)} more items not listed here (--format json lists them all)",
        )
        cases.append(("envlock: more", summary if worst is not None else None))
    suite = ET.Element(
        "testsuite",
        name=plain(f"envlock {report.command}", newlines=False),
        tests=str(len(cases)),
        failures=str(sum(1 for _, f in cases if f is not None and f.severity >= fails)),
        errors="0",
        skipped=str(sum(1 for _, f in cases if f is not None and f.severity < fails)),
    )
    for name, f in cases:
        case = ET.SubElement(suite, "testcase", classname=f"envlock.{report.command}", name=name)
        if f is None:
            continue
        message = plain(f.message, newlines=False)
        body = plain(f.message + (f"\nfix: {f.fix}" if f.fix else ""))
        if f.why:
            body += plain(f"\nwhy it matters: {f.why}")
        if f.severity >= fails:
            el = ET.SubElement(case, "failure", message=message, type=f.check_id)
        else:
            el = ET.SubElement(case, "skipped", message=f"{f.severity.label}: {message}")
        el.text = body
    root = ET.Element("testsuites", name="envlock")
    root.append(suite)
    ET.indent(root)
    out.write('<?xml version="1.0" encoding="utf-8"?>\n')
    out.write(ET.tostring(root, encoding="unicode"))
    out.write("\n")
