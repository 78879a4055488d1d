"""envlock verify LOCK: say exactly what drifted since the lock was written."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from envlock.commands._report_options import add_report_arguments, emit
from envlock.commands._source import add_source_arguments, source_of
from envlock.report import FORMATS

if TYPE_CHECKING:
    from envlock.findings import Report

# envlock.lock.model.SCOPES, repeated (a test holds them equal) so that parsing verify's
# options loads no model: the probe starts before the lock model and Facts are imported.
SCOPES = ("full", "software")
DEFAULT_LOCK_NAME = "envlock.lock.toml"  # envlock.lock.model's, repeated for the same reason

HELP = "compare this environment with a lock file; exit 1 on drift (for CI and pre-flight)"
DESCRIPTION = """\
Compare this machine (or an image, or a facts file) with a lock written by
`envlock lock`. Every difference names the field, the locked value, the
observed value and why it matters.

Field rules: exact (torch, CUDA, cuDNN, NCCL, Python minor, packages,
environment), at-least (driver), same (GPU model, capability, count),
ignore (meta). Override them with --rule PATTERN=RULE (RULE: exact,
at-least, same, warn, ignore; PATTERN like 'packages.numpy' or 'env.*'),
or with a [rules] table in the lock.

--ignore ID drops a kind of finding (EL-VERIFY-NOT-LOCKED, EL-DET-*,
EL-FLEET-* under --distributed). --scope software skips driver and GPU fields: use it on CI machines without
GPUs; the training machine verifies with the default --scope full.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "lock",
        metavar="LOCK",
        nargs="?",
        default=DEFAULT_LOCK_NAME,
        help=f"the lock file (default {DEFAULT_LOCK_NAME}, as `envlock run` finds it)",
    )
    parser.add_argument(
        "--scope",
        choices=SCOPES,
        default="full",
        help="full (default) or software: skip driver and GPU fields",
    )
    parser.add_argument(
        "--rule",
        action="append",
        default=[],
        metavar="PATTERN=RULE",
        help="override the rule for matching fields (repeatable)",
    )
    add_report_arguments(parser, formats=FORMATS, example_id="EL-VERIFY-NOT-LOCKED", output=True)
    parser.add_argument(
        "--no-determinism", action="store_true", help="do not recompute locked determinism digests"
    )
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="import torch again instead of using its cached live facts, parse the lock "
        "again instead of using the parsed-lock cache, and compare again instead of reusing "
        "the report of the same lock and facts",
    )
    parser.add_argument(
        "--distributed",
        action="store_true",
        help="under torchrun: every rank verifies, rank 0 reports which ranks "
        "and nodes differ, every rank exits 1 on a mismatch",
    )
    parser.add_argument(
        "--fleet-timeout",
        type=float,
        default=60.0,
        metavar="S",
        help="seconds to wait for every rank to join (default 60)",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="with --distributed: after the facts exchange, one small all-reduce on the job's "
        "backend (NCCL on GPUs, gloo on CPU); a rank that does not complete is named and "
        "every rank exits 1",
    )
    parser.add_argument(
        "--smoke-timeout",
        type=float,
        default=30.0,
        metavar="S",
        help="seconds the --smoke all-reduce may take (default 30)",
    )
    add_source_arguments(parser)


def run(args: argparse.Namespace) -> Report:
    from envlock import api

    options = {
        "scope": args.scope,
        "rules": args.rule,
        "ignore": args.ignore,
        "determinism": not args.no_determinism,
        "cache": not args.no_cache,
        "strict": args.strict,
    }
    if args.smoke and not args.distributed:
        from envlock.errors import UsageError

        raise UsageError("--smoke runs under torchrun with --distributed")
    if not args.distributed:
        report = api.verify_lock(args.lock, source_of(args), **options)
        emit(report, args)
        return report

    def show(rank: int, host: str, report: Report) -> None:
        if rank == 0:
            emit(report, args)
            sys.stdout.flush()  # out before any rank can exit and end the launch
        elif report.failed:
            print(
                f"envlock: rank {rank} ({host}): fleet verification failed; rank 0 has the report",
                file=sys.stderr,
            )

    return api.verify_distributed(
        args.lock,
        source_of(args),
        timeout=args.fleet_timeout,
        on_report=show,
        smoke=args.smoke,
        smoke_timeout=args.smoke_timeout,
        **options,
    )
