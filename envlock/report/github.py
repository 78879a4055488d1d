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


def render_github(report: Report, out: TextIO) -> None:
    lock = lock_of(report.details)
    findings = report.sorted_findings()
    for f in findings[:MAX_ANNOTATIONS]:
        level = _LEVEL[f.severity]
        if report.strict and f.severity is Severity.WARNING:
            level = "error"
        props = [
            f"title={_escape_property(f'envlock {f.check_id}' + (f' {f.field}' if f.field else ''))}"
        ]
        if lock:
            props.insert(0, f"file={_escape_property(lock)}")
        message = f.message + (f" — fix: {f.fix}" if f.fix else "")
        out.write(f"::{level} {','.join(props)}::{_escape_data(message)}\n")
    if len(findings) > MAX_ANNOTATIONS:  # GitHub shows a handful per step anyway
        out.write(
            f"::notice title=envlock::{len(findings) - MAX_ANNOTATIONS} more findings "
            "not annotated (--format json lists them all)\n"
        )
    verdict = "failed" if report.failed else "passed"
    out.write(
        f"envlock {report.command} {verdict}: "
        f"{report.count(Severity.ERROR)} error(s), {report.count(Severity.WARNING)} warning(s)\n"
    )
