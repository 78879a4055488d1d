"""envlock doctor: will this machine run the job, and if not, what to change."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

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
        help="probe torch again (a child that imports it) instead of its cached live facts",
    )
    add_source_arguments(parser)
    add_plan_arguments(parser)


def add_plan_arguments(parser: argparse.ArgumentParser) -> None:
    p = parser.add_argument_group("a plan, checked before anything is built")
    p.add_argument(
        "--plan",
        action="append",
        default=[],
        metavar="FILE",
        help="a Dockerfile, compose file, Kubernetes manifest, requirements file, pylock.toml, "
        "uv.lock, pyproject.toml or environment.yml (repeatable; the kind is detected)",
    )
    p.add_argument(
        "--build-arg",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a Dockerfile build argument, as docker build --build-arg (repeatable)",
    )
    p.add_argument(
        "--target", metavar="STAGE", help="the Dockerfile stage to check (default: the last)"
    )


def plan_options(args: argparse.Namespace) -> tuple[dict[str, str], str | None]:
    """--build-arg and --target, checked (a UsageError without --plan or without '=')."""
    from envlock.errors import UsageError

    if not args.plan and (args.build_arg or args.target):
        raise UsageError("--build-arg and --target apply to a --plan file")
    others = [
        o
        for o in ("python", "image", "container", "collect_env", "nvidia_smi", "pip_freeze")
        if getattr(args, o, None)
    ]
    if args.plan and others:
        raise UsageError(
            f"--plan is held against this host or --facts, not --{others[0].replace('_', '-')}"
        )
    build_args: dict[str, str] = {}
    for item in args.build_arg:
        name, eq, value = item.partition("=")
        if not eq or not name:
            raise UsageError(f"--build-arg {item!r}: expected NAME=VALUE")
        build_args[name] = value
    return build_args, args.target


def run(args: argparse.Namespace) -> Report | None:
    if args.list_checks:
        _list_checks()
        return None
    build_args, target = plan_options(args)
    if args.plan:
        from envlock.api import doctor_plan

        report = doctor_plan(
            args.plan,
            facts=args.facts,
            build_args=build_args,
            target=target,
            ignore=args.ignore,
            strict=args.strict,
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
