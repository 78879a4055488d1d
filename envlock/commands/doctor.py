"""envlock doctor: will this machine run the job, and if not, what to change."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from envlock.commands._plan import add_plan_arguments, plan_options
from envlock.commands._report_options import add_report_arguments, emit
from envlock.commands._source import add_source_arguments, source_of
from envlock.report import FORMATS

if TYPE_CHECKING:
    from envlock.findings import Report

HELP = "check this environment for problems that stop or slow a PyTorch GPU job"
DESCRIPTION = """\
Probe this machine (or another interpreter, an image, or a facts file) and
hold the driver, CUDA libraries, torch build and GPUs against envlock's
compatibility matrix. Each finding has a stable check ID, the facts it used
and a fix. A summary line comes first.

Exit 1 when an error-level finding exists (or any warning with --strict).
Silence a check with --ignore ID (repeatable or comma-separated); list the
finding IDs (the doctor's, then verify's, determinism's and fleet's) with
--list-checks. --expect bf16 / --expect deterministic tells the
doctor what the job will use, so the checks for it report errors.

--plan FILE checks a Dockerfile, compose file, Kubernetes manifest,
requirements file, pylock.toml, uv.lock, pyproject.toml or environment.yml
before anything is built, against this machine's driver and GPUs (or
--facts FILE's): each finding names the file and line, and its fix is the
replacement text of that instruction, re-checked against the matrix.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_report_arguments(parser, formats=FORMATS, example_id="EL-SHM-SMALL", output=True)
    parser.add_argument(
        "--expect",
        action="append",
        default=[],
        choices=("bf16", "deterministic"),
        help="what the job will use: bf16 training, deterministic algorithms (repeatable)",
    )
    parser.add_argument(
        "--list-checks",
        action="store_true",
        help="list every finding ID (title, default severity, command) and exit",
    )
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="probe torch again (a child that imports it) instead of its cached live facts, "
        "and run the checks again instead of reusing the report of the same facts",
    )
    add_source_arguments(parser)
    add_plan_arguments(parser)
    parser.add_argument(
        "--facts-dir",
        metavar="DIR",
        help="hold the --plan against every kind of node of DIR's per-node facts files "
        "(fleet report's: `envlock probe --json` on each node)",
    )


def run(args: argparse.Namespace) -> Report | None:
    if args.list_checks:
        _list_checks()
        return None
    build_args, target = plan_options(args)
    if args.facts_dir and (not args.plan or args.facts):
        from envlock.errors import UsageError

        raise UsageError("--facts-dir holds a --plan against a fleet, instead of --facts")
    if args.plan:
        from envlock.api import doctor_plan

        report = doctor_plan(
            args.plan,
            facts=args.facts,
            build_args=build_args,
            target=target,
            ignore=args.ignore,
            strict=args.strict,
            facts_dir=args.facts_dir,
            probe_base=args.probe_base,
        )
        emit(report, args)
        return report
    from envlock.api import doctor

    report = doctor(
        source_of(args),
        expect=args.expect,
        ignore=args.ignore,
        strict=args.strict,
        cache=not args.no_cache,
    )
    emit(report, args)
    return report


def _list_checks() -> None:
    """Every finding ID, the doctor's first; the others are for verify/fleet --ignore."""
    from envlock.api import list_checks

    for k in list_checks():
        print(f"{k.id:30} {k.severity.label:8} {k.source:12} {k.title}")
