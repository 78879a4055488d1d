"""envlock fleet report DIR: compare per-node facts files like the ranks of one job."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from envlock.commands._report_options import add_report_arguments, emit
from envlock.lock.model import SCOPES
from envlock.report import FORMATS

if TYPE_CHECKING:
    from envlock.findings import Report

HELP = "compare per-node facts files (srun/Kubernetes jobs without torchrun)"
DESCRIPTION = """\
Each node writes `envlock probe --json > DIR/$(hostname).json`; then
`envlock fleet report DIR` says which nodes differ from each other (driver,
NCCL, torch, GPU model/count, environment, determinism digests) and, with
--lock, from the lock. Exit 1 when any node differs.

Under torchrun use `envlock verify LOCK --distributed` instead: it gathers
the same summaries over torch.distributed (gloo) while the job starts.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="fleet_command", metavar="ACTION", required=True)
    rep = sub.add_parser(
        "report",
        help="merge and compare facts files in DIR",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    rep.add_argument("directory", metavar="DIR", help="directory of facts *.json files")
    rep.add_argument("--lock", metavar="LOCK", help="also verify every node against this lock")
    rep.add_argument("--scope", choices=SCOPES, default="full")
    rep.add_argument(
        "--nodes",
        metavar="HOSTLIST",
        help="the nodes expected, as a Slurm hostlist (e.g. 'gpu-node-[000-063]'); "
        "those that sent no facts file are reported missing",
    )
    add_report_arguments(rep, formats=FORMATS, example_id="EL-FLEET-DIVERGENT", output=True)


def run(args: argparse.Namespace) -> Report:
    from envlock.api import fleet_report
    from envlock.report.progress import on_stderr

    progress = on_stderr("envlock fleet report")
    try:
        report = fleet_report(
            args.directory,
            args.lock,
            scope=args.scope,
            ignore=args.ignore,
            strict=args.strict,
            nodes=args.nodes,
            progress=progress,
        )
    finally:
        progress.close()
    emit(report, args)
    return report
