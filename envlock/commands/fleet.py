"""envlock fleet report DIR: compare per-node facts files like the ranks of one job."""

from __future__ import annotations

import argparse
import sys

from envlock.findings import Report
from envlock.lockfile import SCOPES
from envlock.report import FORMATS

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
    rep.add_argument("--format", choices=FORMATS, default="text")
    rep.add_argument("--strict", action="store_true", help="warnings fail too")


def run(args: argparse.Namespace) -> int:
    from envlock import fleet
    from envlock.lockfile import read_lock

    lock = read_lock(args.lock) if args.lock else None
    summaries, findings = fleet.report_dir(args.directory, lock, scope=args.scope)
    report = Report(
        command="fleet report",
        target=f"{len(summaries)} nodes",
        findings=findings,
        strict=args.strict,
        details={
            "nodes": [s.host for s in summaries],
            **({"lock": args.lock} if args.lock else {}),
        },
    )
    from envlock.report import render

    render(report, args.format, sys.stdout)
    return 1 if report.failed else 0
