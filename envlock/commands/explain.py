"""envlock explain CODE|MESSAGE: what an exit code or error means, checked on this machine."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from envlock.commands._source import add_source_arguments, source_of

if TYPE_CHECKING:
    from envlock.findings import Report

HELP = "explain an exit code (137, 139, ...) or a CUDA/torch error message, and check this machine"
DESCRIPTION = """\
  envlock explain 137
  envlock explain "CUDA error: no kernel image is available for execution on the device"

Maps exit codes (126, 127, 128+N signals: 134 abort, 137 kill/OOM, 139
segfault, 143 term) and known error messages to their cause, runs the doctor
checks that confirm it on this machine (or --facts FILE), and prints the fix.
Exit 1 when a confirming check finds an error here (or a warning, with
--strict), else 0.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "what", metavar="CODE|MESSAGE", nargs="+", help="an exit code, or the error text (quote it)"
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument(
        "--strict", action="store_true", help="a confirming check's warning fails too (exit 1)"
    )
    parser.add_argument(
        "--no-checks", action="store_true", help="only explain; do not probe this machine"
    )
    add_source_arguments(parser)


def run(args: argparse.Namespace) -> Report:
    from envlock.api import explain

    report = explain(
        " ".join(args.what), source_of(args), checks=not args.no_checks, strict=args.strict
    )
    if args.format == "json":
        d = report.details
        doc = {
            "input": report.target,
            "explanations": d["explanations"],
            "evidence": d["evidence"],
            "gpu_note": d["gpu_note"],
            "findings": [f.to_dict() for f in report.findings],
            "verdict": "fail" if report.failed else "pass",
        }
        json.dump(doc, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        _render_text(report)
    return report


def _render_text(report: Report) -> None:
    from rich.text import Text

    from envlock.report.text import _print_finding, console_for

    console = console_for(sys.stdout)
    explanations: list[dict[str, Any]] = report.details["explanations"]
    if not explanations:
        console.print(
            Text(
                f"envlock does not recognise {report.target!r}. "
                "Run `envlock doctor` for a full check."
            )
        )
        return
    for e in explanations:
        console.print(Text(e["title"], style="bold"))
        console.print(Text(f"  cause: {e['cause']}"))
        console.print(Text(f"  fix:   {e['fix']}", style="green"))
        for url in e.get("source") or ():
            console.print(Text(f"  seen in: {url}", style="dim"))
    for key, value in report.details["evidence"].items():
        console.print(Text(f"  {key}: {value}", style="dim"))
    wanted: list[str] = report.details["wanted"]
    gpu_note = report.details.get("gpu_note")
    if gpu_note:
        console.print(Text(f"\non this machine: {gpu_note}", style="yellow"))
        return
    if not wanted or not report.details["checked"]:
        return
    if report.findings:
        console.print(Text("\non this machine:", style="bold"))
        for f in report.findings:
            _print_finding(console, f)
    else:
        console.print(
            Text(
                f"\non this machine: none of {', '.join(wanted)} fires; the cause is elsewhere "
                "or only visible at run time"
            )
        )
