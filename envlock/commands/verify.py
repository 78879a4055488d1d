"""envlock verify LOCK: say exactly what drifted since the lock was written."""

from __future__ import annotations

import argparse
import sys

from envlock.commands._source import add_source_arguments, collect_facts_and_host
from envlock.facts import Facts
from envlock.findings import Finding, Report
from envlock.lockfile import SCOPES, read_lock
from envlock.report import FORMATS
from envlock.verify import checked_fields, parse_rule_override, verify_recomputing

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

--scope software skips driver and GPU fields: use it on CI machines without
GPUs; the training machine verifies with the default --scope full.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("lock", metavar="LOCK", help="the lock file (e.g. envlock.lock.toml)")
    parser.add_argument(
        "--scope",
        choices=SCOPES,
        default="full",
        help="full (default) or software: skip driver and GPU fields",
    )
    parser.add_argument(
        "--format", choices=FORMATS, default="text", help="output format (default text)"
    )
    parser.add_argument(
        "--rule",
        action="append",
        default=[],
        metavar="PATTERN=RULE",
        help="override the rule for matching fields (repeatable)",
    )
    parser.add_argument("--strict", action="store_true", help="warnings fail too")
    parser.add_argument(
        "--no-determinism", action="store_true", help="do not recompute locked determinism digests"
    )
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="import torch again instead of using its cached live facts",
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
    add_source_arguments(parser)


def run(args: argparse.Namespace) -> int:
    rules = [parse_rule_override(r) for r in args.rule]
    lock = read_lock(args.lock)
    # An image runs on this host's driver and GPUs: those come from the host.
    facts, host = collect_facts_and_host(
        args, cache=not args.no_cache, host=args.scope != "software"
    )
    if host is not None:
        from envlock.container.parse import merge_host_facts

        facts = merge_host_facts(facts, host)
    facts, findings = verify_recomputing(
        lock,
        facts,
        scope=args.scope,
        rules=rules,
        determinism=not args.no_determinism,
        python=getattr(args, "python", None),
    )
    details: dict[str, object] = {
        "lock": args.lock,
        "scope": args.scope,
        "probe_notes": list(facts.meta.notes),
    }
    if args.distributed:
        return _run_distributed(args, facts, findings, details)
    failed_fields = {f.field for f in findings}
    details["passed"] = [f for f in checked_fields(lock, args.scope) if f not in failed_fields]
    report = Report(
        command="verify",
        target=facts.meta.target,
        findings=findings,
        strict=args.strict,
        details=details,
    )
    from envlock.report import render

    render(report, args.format, sys.stdout)
    return 1 if report.failed else 0


def _run_distributed(
    args: argparse.Namespace, facts: Facts, findings: list[Finding], details: dict[str, object]
) -> int:
    from envlock import fleet

    env = fleet.torchrun_env()
    rank = env[0] if env else 0
    host = fleet.hostname()
    summary = fleet.summarize(rank, host, facts, findings, args.scope)
    group = fleet.Rendezvous.join(timeout=args.fleet_timeout)
    summaries = group.all_gather(summary)
    fleet_findings = fleet.compare_ranks(summaries)
    details.update(world_size=len(summaries), hosts=sorted({s.host for s in summaries}))
    report = Report(
        command="verify --distributed",
        target=f"{len(summaries)} ranks",
        findings=fleet_findings,
        strict=args.strict,
        details=details,
    )
    if rank == 0:
        from envlock.report import render

        render(report, args.format, sys.stdout)
        sys.stdout.flush()  # the report is out before any rank can exit and end the launch
    elif report.failed:
        print(
            f"envlock: rank {rank} ({host}): fleet verification failed; rank 0 has the report",
            file=sys.stderr,
        )
    group.leave()
    return 1 if report.failed else 0
