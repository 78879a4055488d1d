"""envlock verify LOCK: say exactly what drifted since the lock was written."""

from __future__ import annotations

import argparse
import sys

from envlock.commands._source import add_source_arguments, collect_facts
from envlock.findings import Report
from envlock.lockfile import SCOPES, read_lock
from envlock.verify import parse_rule_override, verify

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
    parser.add_argument("--scope", choices=SCOPES, default="full",
                        help="full (default) or software: skip driver and GPU fields")
    parser.add_argument("--format", choices=("text", "json"), default="text",
                        help="output format (default text)")
    parser.add_argument("--rule", action="append", default=[], metavar="PATTERN=RULE",
                        help="override the rule for matching fields (repeatable)")
    parser.add_argument("--strict", action="store_true", help="warnings fail too")
    parser.add_argument("--no-determinism", action="store_true",
                        help="do not recompute locked determinism digests")
    add_source_arguments(parser)


def run(args: argparse.Namespace) -> int:
    rules = [parse_rule_override(r) for r in args.rule]
    lock = read_lock(args.lock)
    facts = collect_facts(args)
    if "determinism" in lock and not args.no_determinism and facts.determinism is None:
        from envlock.determinism import from_lock_table, run_suite

        locked = from_lock_table(lock["determinism"])
        facts = facts.replace(determinism=run_suite(
            device=locked.device, seed=locked.seed, python=getattr(args, "python", None)))
    findings = verify(lock, facts, scope=args.scope, rules=rules)
    report = Report(command="verify", target=facts.meta.target, findings=findings,
                    strict=args.strict, details={"lock": args.lock, "scope": args.scope})
    from envlock.report import render

    render(report, args.format, sys.stdout)
    return 1 if report.failed else 0
