"""envlock restore LOCK: from a lock back to a working environment, then verify it."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from envlock.commands._report_options import add_report_arguments
from envlock.errors import ExitCode
from envlock.report import FORMATS

if TYPE_CHECKING:
    from envlock.api import RestoreOutcome
    from envlock.facts import Facts
    from envlock.findings import Report
    from envlock.report.progress import Progress

HELP = "install exactly a lock into a venv (or an interpreter), then verify it"
DESCRIPTION = """\
Install exactly what a lock holds, with uv when it is on PATH, else pip, then
verify the result against the lock (--scope software): exit 0 = identical.

--venv DIR builds a new virtual environment inside DIR (in a hidden working
directory, so a mount point works too) and swaps it in entry by entry: DIR's own
venv entries (bin, lib, include, share, pyvenv.cfg, uv's marker files) are held
aside until the new venv verified, then deleted; a failed install or verify puts
them back. Anything else in DIR is refused (exit 3, named) unless --force, which
leaves it in place: restore never removes what it did not make. What a killed
restore left is undone by the next one. --python PY installs into an existing
interpreter (after a dry run of the same install).

Before anything is installed, the locked torch build is held against this
machine's driver and GPUs with the compatibility matrix: if it cannot run
here, restore stops with exit 1 and names the variant of the same torch
release that would. --variant cu126 restores that variant instead and says
which lock fields will then differ. --dry-run prints the commands and runs
nothing. Editable and local-path installs in the lock cannot be restored: they
are left out and verify reports them missing.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("lock", metavar="LOCK", help="the lock file (e.g. envlock.lock.toml)")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--venv", metavar="DIR", help="create or replace this virtual environment")
    target.add_argument("--python", metavar="PY", help="install into this existing interpreter")
    parser.add_argument(
        "--base-python",
        metavar="PY",
        help="--venv: the interpreter to create it from (default: the one running envlock)",
    )
    parser.add_argument("--variant", metavar="VARIANT", help="another torch variant (cu126, cpu)")
    parser.add_argument(
        "--installer", choices=("auto", "uv", "pip"), default="auto", help="default: uv if found"
    )
    parser.add_argument(
        "--torch-index",
        metavar="URL",
        help="a mirror of the torch variant's index, or 'none' for the pip/uv configuration",
    )
    parser.add_argument("--dry-run", action="store_true", help="print the commands, run nothing")
    parser.add_argument(
        "--force",
        action="store_true",
        help="--venv: build even when DIR holds files that are not a venv's (they stay as they are)",
    )
    parser.add_argument(
        "--host-facts",
        metavar="FILE",
        help="hold the torch variant against these facts (`envlock probe --json`) "
        "instead of this machine's",
    )
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="use no cache: probe torch again (a child that imports it) instead of its cached "
        "live facts, start no install an earlier restore of the same lock planned before "
        "this one has planned it, and verify instead of printing a stored verdict",
    )
    add_report_arguments(parser, formats=FORMATS, example_id="EL-VERIFY-NOT-LOCKED")


def run(args: argparse.Namespace) -> Report | ExitCode:
    import shlex

    from envlock import api
    from envlock.report import render
    from envlock.report.progress import on_stderr

    _check_force(args)
    host = None
    if args.host_facts:
        host = api.collect_facts(api.Source(facts_file=args.host_facts))
    progress = on_stderr("envlock restore")
    try:
        outcome = _restore(args, host, progress)
    finally:
        progress.close()
    hold = outcome.hold
    if outcome.blocked:
        hint = (
            f"; variant {hold.instead} of the same release would: "
            f"envlock restore {args.lock} --variant {hold.instead} ..."
            if hold.instead
            else "; no variant of the same release runs here"
        )
        print(f"envlock restore: {hold.reason}{hint}", file=sys.stderr)
        return ExitCode.FINDINGS
    print(f"envlock restore: {hold.reason}", file=sys.stderr)
    plan = outcome.plan
    if plan is not None and plan.differs:
        print(
            f"envlock restore: --variant {plan.variant}: these lock fields will differ: "
            + ", ".join(plan.differs),
            file=sys.stderr,
        )
    for what, why in plan.skipped.items() if plan is not None else ():
        print(f"envlock restore: not restorable: {what}: {why}", file=sys.stderr)
    if outcome.dry_run:
        export = ["envlock", "export", args.lock, "--format", "requirements"]
        export += ["--variant", args.variant] if args.variant else []
        export += ["--torch-index", args.torch_index] if args.torch_index else []
        sys.stdout.write(f"{shlex.join([*export, '-o', outcome.requirements])}\n")
        for line in outcome.commands:
            sys.stdout.write(line + "\n")
        return ExitCode.OK
    assert outcome.report is not None
    render(outcome.report, args.format, sys.stdout)
    return outcome.report


def _check_force(args: argparse.Namespace) -> None:
    if args.force and not args.venv:
        from envlock.errors import UsageError

        raise UsageError("--force goes with --venv DIR")


def _restore(args: argparse.Namespace, host: Facts | None, progress: Progress) -> RestoreOutcome:
    from envlock import api
    from envlock.report.safe import plain

    return api.restore_lock(
        args.lock,
        venv=args.venv,
        python=args.python,
        base_python=args.base_python,
        variant=args.variant,
        installer=args.installer,
        torch_index=args.torch_index,
        dry_run=args.dry_run,
        host=host,
        strict=args.strict,
        ignore=args.ignore,
        log=lambda line: print(plain(line, newlines=False), file=sys.stderr),
        force=args.force,
        cache=not args.no_cache,
        progress=progress,
    )
