"""`envlock explain`'s output: the explanations, the evidence read here, and the confirming
checks' findings (text), or the same as one JSON document."""

from __future__ import annotations

from typing import TextIO

from envlock.details import ExplainDetails
from envlock.findings import Report
from envlock.report.printer import Line, Printer
from envlock.report.text import _print_finding


def _details(report: Report) -> ExplainDetails:
    if not isinstance(report.details, ExplainDetails):
        raise TypeError(f"not an explain report: envlock {report.command}")
    return report.details


def explain_document(report: Report) -> dict[str, object]:
    d = _details(report)
    return {
        "input": report.target,
        "explanations": [e.to_dict() for e in d.explanations],
        "evidence": d.evidence,
        "gpu_note": d.gpu_note,
        "findings": [f.to_dict() for f in report.findings],
        "verdict": "fail" if report.failed else "pass",
    }


def render_explain_text(report: Report, out: TextIO) -> None:
    d = _details(report)
    console = Printer(out)
    if not d.explanations:
        console.print(
            Line(
                f"envlock does not recognise {report.target!r}. "
                "Run `envlock doctor` for a full check."
            )
        )
        return
    for e in d.explanations:
        console.print(Line(e.title, style="bold"))
        console.print(Line(f"  cause: {e.cause}"))
        console.print(Line(f"  fix:   {e.fix}", style="green"))
        for url in e.source:
            console.print(Line(f"  seen in: {url}", style="dim"))
    for key, value in d.evidence.items():
        console.print(Line(f"  {key}: {value}", style="dim"))
    if d.gpu_note:
        console.print(Line(f"\non this machine: {d.gpu_note}", style="yellow"))
    elif d.wanted and d.checked:
        _print_confirming(console, report, d.wanted)


def _print_confirming(console: Printer, report: Report, wanted: tuple[str, ...]) -> None:
    """What the checks that confirm the cause found on this machine."""
    if report.findings:
        console.print(Line("\non this machine:", style="bold"))
        for f in report.findings:
            _print_finding(console, f)
    else:
        console.print(
            Line(
                f"\non this machine: none of {', '.join(wanted)} fires; the cause is elsewhere "
                "or only visible at run time"
            )
        )
