"""envlock doctor: will this machine run the job, and if not, what to change."""

from __future__ import annotations

import argparse
import sys

from envlock.commands._source import add_source_arguments, collect_facts_and_host
from envlock.report import FORMATS

HELP = "check this environment for problems that stop or slow a PyTorch GPU job"
DESCRIPTION = """\
Probe this machine (or another interpreter, an image, or a facts file) and
hold the driver, CUDA libraries, torch build and GPUs against envlock's
compatibility matrix. Each finding has a stable check ID, the facts it used
and a fix. A summary line comes first.

Exit 1 when an error-level finding exists (or any warning with --strict).
Silence a check with --ignore ID (repeatable or comma-separated); list the
checks with --list-checks. --expect bf16 / --expect deterministic tells the
doctor what the job will use, so the checks for it report errors.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format", choices=FORMATS, default="text", help="output format (default text)"
    )
    parser.add_argument("--strict", action="store_true", help="warnings fail too")
    parser.add_argument(
        "--ignore",
        action="append",
        default=[],
        metavar="ID",
        help="skip a check by ID, e.g. EL-SHM-SMALL (repeatable, or comma-separated)",
    )
    parser.add_argument(
        "--expect",
        action="append",
        default=[],
        choices=("bf16", "deterministic"),
        help="what the job will use: bf16 training, deterministic algorithms (repeatable)",
    )
    parser.add_argument("--list-checks", action="store_true", help="list every check ID and exit")
    add_source_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from envlock.checks import CHECKS, run_checks, validate_ignore
    from envlock.findings import Report

    if args.list_checks:
        for c in sorted(CHECKS.values(), key=lambda c: c.id):
            print(f"{c.id:30} {c.severity.label:8} {c.title}")
        return 0
    ignore = validate_ignore(i for arg in args.ignore for i in arg.split(","))
    facts, host = collect_facts_and_host(args)
    findings = run_checks(facts, host=host, ignore=ignore, expect=args.expect)
    target = f"facts:{args.facts}" if args.facts else facts.meta.target
    report = Report(
        command="doctor",
        target=target,
        findings=findings,
        strict=args.strict,
        details={
            "checks": len(CHECKS) - len(ignore),
            "ignored": sorted(ignore),
            "expect": sorted(set(args.expect)),
        },
    )
    from envlock.report import render

    render(report, args.format, sys.stdout)
    return 1 if report.failed else 0
