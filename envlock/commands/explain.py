"""envlock explain CODE|MESSAGE: what an exit code or error means, checked on this machine."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

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
    parser.add_argument(
        "--format",
        choices=("text", "json", "html"),
        default="text",
        help="output format (default text; html: one self-contained page)",
    )
    parser.add_argument(
        "--strict", action="store_true", help="a confirming check's warning fails too (exit 1)"
    )
    parser.add_argument(
        "--no-checks", action="store_true", help="only explain; do not probe this machine"
    )
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="probe torch again (a child that imports it) instead of its cached live facts",
    )
    add_source_arguments(parser)


def run(args: argparse.Namespace) -> Report:
    from envlock.api import explain

    report = explain(
        " ".join(args.what),
        source_of(args),
        checks=not args.no_checks,
        strict=args.strict,
        cache=not args.no_cache,
    )
    if args.format == "html":
        from envlock.report import render

        render(report, "html", sys.stdout)
    elif args.format == "json":
        from envlock.report.explain import explain_document

        json.dump(explain_document(report), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        from envlock.report.explain import render_explain_text

        render_explain_text(report, sys.stdout)
    return report
