"""GitHub Actions workflow commands: ::error / ::warning / ::notice lines.

Properties and messages are escaped as the runner requires (%, CR, LF; and
',' ':' in properties), so a finding can never inject another command.
"""

from __future__ import annotations

from typing import TextIO

from envlock.details import lock_of
from envlock.findings import Report, Severity
from envlock.report.safe import plain

_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def _escape_data(text: str) -> str:
    return plain(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


MAX_ANNOTATIONS = 100


def _annotation(report: Report, severity: Severity, title: str, message: str) -> str:
    level = _LEVEL[severity]
    if report.strict and severity is Severity.WARNING:
        level = "error"
    props = [f"title={_escape_property(title)}"]
    lock = lock_of(report.details)
    if lock:
        props.insert(0, f"file={_escape_property(lock)}")
    return f"::{level} {','.join(props)}::{_escape_data(message)}\n"


def render_github(report: Report, out: TextIO) -> None:
    from envlock.report.longtail import long_tails

    # a fleet's long tail (a package on one node each) is one annotation, not one a field
    findings, tails = long_tails(report.sorted_findings())
    for f in findings[:MAX_ANNOTATIONS]:
        title = f"envlock {f.check_id}" + (f" {f.field}" if f.field else "")
        message = f.message + (f" — fix: {f.fix}" if f.fix else "")
        out.write(_annotation(report, f.severity, title, message))
    for t in tails[:MAX_ANNOTATIONS]:
        out.write(
            _annotation(report, t.severity, f"envlock EL-FLEET-DIVERGENT {t.section}", t.line())
        )
    more = max(len(findings) - MAX_ANNOTATIONS, 0) + max(len(tails) - MAX_ANNOTATIONS, 0)
    if more:  # GitHub shows a handful per step anyway
        out.write(
            f"::notice title=envlock::{more} more findings "
            "not annotated (--format json lists them all)\n"
        )
    verdict = "failed" if report.failed else "passed"
    out.write(
        f"envlock {report.command} {verdict}: "
        f"{report.count(Severity.ERROR)} error(s), {report.count(Severity.WARNING)} warning(s)\n"
    )
