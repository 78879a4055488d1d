"""Human report: verdict first, then findings by severity with evidence and fix (rich on
a terminal and for tables; report/printer.py's plain lines elsewhere).

verify findings (those with a `field`) are shown as one diff table:
field, locked, observed, why it matters.
"""

from __future__ import annotations

from typing import Any, TextIO

from envlock.details import DoctorDetails, VerifyDetails
from envlock.findings import Finding, Report, Severity
from envlock.report.printer import UNBOUNDED as UNBOUNDED  # re-exported
from envlock.report.printer import Line, Printer
from envlock.report.printer import console_for as console_for  # re-exported
from envlock.report.safe import plain

_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}
_MARK = {Severity.ERROR: "✗", Severity.WARNING: "!", Severity.INFO: "i"}


def summary_line(report: Report) -> Line:
    errors, warnings, infos = (
        report.count(Severity.ERROR),
        report.count(Severity.WARNING),
        report.count(Severity.INFO),
    )
    partial = bool(_not_checked(report))
    verdict = "FAIL" if report.failed else ("PARTIAL" if partial else "PASS")
    style = "bold red" if report.failed else ("bold yellow" if partial else "bold green")
    text = Line()
    text.append(f"{verdict}", style=style)
    text.append(
        f"  envlock {report.command} ({plain(report.target, newlines=False)}): "
        f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}, "
        f"{infos} info"
    )
    if report.strict:
        text.append("  [--strict: warnings fail]")
    return text


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, list):
        return plain(" ".join(str(v) for v in value) or "[]")
    return plain(value)


def not_checked_lines(items: Any) -> tuple[list[str], list[str]]:
    """What could not be checked: (sections, checks). Sections ("cuda: not in the pasted
    text") keep a line each; checks that lack the same facts ("EL-X: needs the GPU list",
    "EL-Y: needs the GPU list") share one. --format json lists each check."""
    sections: list[str] = []
    by_reason: dict[str, list[str]] = {}
    for item in items:
        check, sep, reason = str(item).partition(": ")
        if sep and check.startswith("EL-") and reason.startswith("needs "):
            by_reason.setdefault(reason, []).append(check)
        else:
            sections.append(str(item))
    return sections, [f"{', '.join(checks)}: {reason}" for reason, checks in by_reason.items()]


def _not_checked(report: Report) -> tuple[str, ...]:
    details = report.details
    return details.not_checked if isinstance(details, DoctorDetails) else ()


def render_text(report: Report, out: TextIO) -> None:
    console = Printer(out)
    console.print(summary_line(report))
    details = report.details
    if isinstance(details, DoctorDetails) and details.interpreter:
        # soft_wrap: a path is never broken across lines
        console.print(Line(f"  interpreter: {_interpreter(details)}"), soft_wrap=True)
    sections, checks = not_checked_lines(_not_checked(report))
    for line in sections:
        console.print(Line(f"  not checked: {plain(line)}", style="yellow"), soft_wrap=True)
    findings = report.sorted_findings()
    _print_fleet_lines(console, findings)
    _print_drift(
        console,
        [f for f in findings if f.field is not None and not f.evidence.get("where")],
        _restore_of(report),
    )
    other = [f for f in findings if f.field is None]
    _print_by_severity(
        console,
        _first_to_read(other, details.read_first) if isinstance(details, DoctorDetails) else other,
    )
    if checks:  # after the findings: what was found comes first
        console.print(Line("\nNOT CHECKED (the facts they need were not given)", style="yellow"))
        for line in checks:
            console.print(Line(f"  {plain(line)}", style="yellow"), soft_wrap=True)
    if not report.findings:
        console.print(Line("nothing to report"))


def _print_fleet_lines(console: Printer, findings: list[Finding]) -> None:
    """Fleet findings (which nodes hold which value): one line each, at any fleet size."""
    from envlock.report.longtail import long_tails

    # fields most nodes lack, many of one section (a package on one node each): one line
    # per section and count
    nodes, tails = long_tails(
        f for f in findings if f.field is not None and f.evidence.get("where")
    )
    # a field the nodes disagree on has one line (its lock value included); drift from the
    # lock that every node shares keeps its own
    divergent = {f.field for f in nodes if f.check_id == "EL-FLEET-DIVERGENT"}
    nodes = [f for f in nodes if f.check_id == "EL-FLEET-DIVERGENT" or f.field not in divergent]
    if not nodes and not tails:
        return
    console.print(Line("\nDIFFERENT NODES (value on nodes; majority first)", style="bold"))
    for f in nodes[:MAX_ROWS]:
        _print_fleet_line(console, f)
    _more(console, len(nodes))
    for tail in tails[:MAX_ROWS]:
        line = Line(f" {_MARK[tail.severity]} ", style=_STYLE[tail.severity])
        line.append(plain(tail.line(), newlines=False))
        console.print(line, soft_wrap=True)
    _more(console, len(tails))


def _print_drift(console: Printer, drift: list[Finding], restore: str | None) -> None:
    """verify's findings as one table: ID, field, locked, observed, why it matters, fix;
    then `envlock restore` where reinstalling the locked packages is the fix."""
    if not drift:
        return
    from rich.table import Table
    from rich.text import Text

    table = Table(title="drift", title_justify="left", show_lines=False, expand=False)
    table.add_column("", no_wrap=True)
    table.add_column("ID", no_wrap=True)
    table.add_column("field", overflow="fold")
    table.add_column("locked", overflow="fold")
    table.add_column("observed", overflow="fold")
    table.add_column("why it matters")
    table.add_column("fix", overflow="fold")
    for f in drift[:MAX_ROWS]:
        table.add_row(
            Text(_MARK[f.severity], style=_STYLE[f.severity]),
            Text(f.check_id),
            Text(plain(f.field or "")),
            Text(_fmt(f.locked)),
            Text(_fmt(f.observed)),
            Text(plain(_why(f))),
            Text(plain(f.fix or ""), style="green"),
        )
    console.print(table)
    _more(console, len(drift))
    for f in drift[:MAX_ROWS]:
        _print_changed_with(console, f)
    if restore is not None and any(_reinstall(f) for f in drift):
        # folded at the width like the table (a long path is folded, never cut)
        console.print(
            Line(f"  or put the locked environment back at once: {plain(restore)}"),
            style="green",
        )


def _print_changed_with(console: Printer, f: Finding) -> None:
    """The fields that changed with a finding's torch (one finding), each locked -> seen."""
    changed = f.evidence.get("changed with torch")
    if not isinstance(changed, list) or not changed:
        return
    console.print(Line(f"  {plain(f.field or '')} changed, and with it:", style="dim"))
    for line in changed[:MAX_LIST]:
        console.print(Line(f"    {plain(str(line))}", style="dim"))
    if len(changed) > MAX_LIST:
        console.print(Line(f"    ... and {len(changed) - MAX_LIST} more", style="dim"))


# what a reinstall of the locked distributions fixes (torch and its CUDA wheels included)
_REINSTALLED = ("packages.", "torch.")


def _reinstall(f: Finding) -> bool:
    return f.check_id in ("EL-VERIFY-DRIFT", "EL-VERIFY-MISSING") and (f.field or "").startswith(
        _REINSTALLED
    )


def _why(f: Finding) -> str:
    """Why it matters, and how many fields changed with it (one torch change is one row)."""
    why = f.why or f.message
    changed = f.evidence.get("changed with torch")
    if isinstance(changed, list) and changed:
        why += f" ({len(changed)} more changed with it: listed below)"
    return why


def _restore_of(report: Report) -> str | None:
    """The `envlock restore` command verify offers (None: no lock file, or no interpreter
    verified to install into)."""
    details = report.details
    return details.restore if isinstance(details, VerifyDetails) else None


def _interpreter(details: DoctorDetails) -> str:
    """ "/usr/bin/python3 (Python 3.11.2)"; a pasted report names only the version."""
    text = details.interpreter or ""
    if text.startswith("(Python ") and text.endswith(")"):
        return f"{plain(text[1:-1])} (its path is not in the pasted text)"
    return plain(text)


def _first_to_read(findings: list[Finding], first: str | None) -> list[Finding]:
    """The doctor's finding to read first (DoctorDetails.read_first) at the top of its
    group; the rest by ID."""
    return sorted(findings, key=lambda f: f.check_id != first)  # stable


def _print_by_severity(console: Printer, other: list[Finding]) -> None:
    for severity in (Severity.ERROR, Severity.WARNING, Severity.INFO):
        group = [f for f in other if f.severity is severity]
        if not group:
            continue
        console.print(Line(f"\n{severity.label.upper()}S", style=_STYLE[severity]))
        for f in group[:MAX_ROWS]:
            _print_finding(console, f)
        _more(console, len(group))


# A person reads a few hundred lines; a 230,000-package drift is summarised, not printed
# (rich takes ~0.5 ms a row). `--format json` always has every finding.
MAX_ROWS = 200
# An evidence list longer than this (10,000 missing nodes) is counted, not printed.
MAX_LIST = 64


def _more(console: Printer, total: int) -> None:
    if total > MAX_ROWS:
        console.print(
            Line(f"  ... and {total - MAX_ROWS} more (--format json lists them all)", style="dim")
        )


def _print_fleet_line(console: Printer, f: Finding) -> None:
    """`✗ driver.version: 580.65.06 on 62 nodes gpu-node-[...]; 570.86.15 on 2 nodes
    gpu-node-[007,041]`, never folded (a hostlist is copied into srun/kubectl); past
    SHOWN values, the first ones (each with its hostlist) and a count."""
    from envlock.report.longtail import many_values

    line = Line(f" {_MARK[f.severity]} ", style=_STYLE[f.severity])
    line.append(plain(f.field or "", newlines=False), style="bold")
    line.append(": ")
    if f.check_id == "EL-FLEET-RANK-DRIFT":
        line.append(f"lock {_fmt(f.locked)}, observed ")
    # thousands of values (another numpy on each node): the first groups and a count
    line.append(plain(many_values(f) or f.evidence["where"], newlines=False))
    if f.check_id != "EL-FLEET-RANK-DRIFT" and f.locked is not None:
        line.append(f"  (lock: {plain(f.locked, newlines=False)})", style="dim")
    console.print(line, soft_wrap=True)


def _print_finding(console: Printer, f: Finding) -> None:
    head = Line(f" {_MARK[f.severity]} ", style=_STYLE[f.severity])
    head.append(f"[{f.check_id}] ", style="bold")
    head.append(plain(f.message))
    console.print(head)
    for key, value in f.evidence.items():
        if isinstance(value, list) and len(value) > MAX_LIST:
            value = f"{len(value)} items (--format json lists them all)"
        console.print(Line(_hanging(f"     {plain(key)}: ", _fmt(value)), style="dim"))
    if f.fix:
        console.print(Line(_hanging("     fix: ", plain(f.fix)), style="green"))


def _hanging(label: str, text: str) -> str:
    """`label` then `text`, its later lines (a replacement RUN spanning lines) indented
    under the first so they read as part of the fix, not as lines of the report."""
    return label + text.replace("\n", "\n" + " " * len(label))
