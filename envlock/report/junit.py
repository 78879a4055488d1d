"""JUnit XML: one test case per check or verified field, so CI test tabs show drift."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import TextIO

from envlock.details import VerifyDetails
from envlock.findings import Finding, Report, Severity
from envlock.report.safe import plain


def _case_name(f: Finding) -> str:
    return plain(f.field if f.field is not None else f.check_id, newlines=False)


MAX_CASES = 2000


def _cases(report: Report) -> list[tuple[str, Finding | None]]:
    """(name, finding) per test case; None: a passing case."""
    cases: list[tuple[str, Finding | None]] = [(_case_name(f), f) for f in report.sorted_findings()]
    # Checked-and-clean items appear as passing cases, so a green run is visible too.
    if isinstance(report.details, VerifyDetails):
        cases += [(plain(name, newlines=False), None) for name in report.details.passed]
    # Bounded: a million-GPU facts file once made 2.4 GB of XML. The rest are summarised
    # in one case that fails when any of them fails; --format json has every finding.
    if len(cases) > MAX_CASES:
        cases = [*cases[:MAX_CASES], ("envlock: more", _more(cases[MAX_CASES:]))]
    return cases


def _more(omitted: list[tuple[str, Finding | None]]) -> Finding | None:
    """The case standing for the cases past MAX_CASES: their worst finding, or a pass."""
    worst = max((f.severity for _, f in omitted if f is not None), default=None)
    if worst is None:
        return None
    return Finding(
        check_id=next(f.check_id for _, f in omitted if f is not None),
        severity=worst,
        message=f"{len(omitted)} more items not listed here (--format json lists them all)",
    )


def _add_case(
    suite: ET.Element, classname: str, name: str, f: Finding | None, fails: Severity
) -> None:
    case = ET.SubElement(suite, "testcase", classname=classname, name=name)
    if f is None:
        return
    message = plain(f.message, newlines=False)
    body = plain(f.message + (f"\nfix: {f.fix}" if f.fix else ""))
    if f.why:
        body += plain(f"\nwhy it matters: {f.why}")
    if f.severity >= fails:
        el = ET.SubElement(case, "failure", message=message, type=f.check_id)
    else:
        el = ET.SubElement(case, "skipped", message=f"{f.severity.label}: {message}")
    el.text = body


def render_junit(report: Report, out: TextIO) -> None:
    fails = Severity.WARNING if report.strict else Severity.ERROR
    cases = _cases(report)
    suite = ET.Element(
        "testsuite",
        name=plain(f"envlock {report.command}", newlines=False),
        tests=str(len(cases)),
        failures=str(sum(1 for _, f in cases if f is not None and f.severity >= fails)),
        errors="0",
        skipped=str(sum(1 for _, f in cases if f is not None and f.severity < fails)),
    )
    for name, f in cases:
        _add_case(suite, f"envlock.{report.command}", name, f, fails)
    root = ET.Element("testsuites", name="envlock")
    root.append(suite)
    ET.indent(root)
    out.write('<?xml version="1.0" encoding="utf-8"?>\n')
    out.write(ET.tostring(root, encoding="unicode"))
    out.write("\n")
