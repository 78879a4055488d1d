"""envlock lock: write envlock.lock.toml from the facts of this machine (or image, or file)."""

from __future__ import annotations

import argparse
import shlex
import sys

from envlock.commands._source import add_source_arguments, collect_facts
from envlock.lockfile import DEFAULT_LOCK_NAME, SCOPES, build_lock, dumps_lock, write_lock

HELP = "write envlock.lock.toml: the driver, GPUs, CUDA stack, torch and packages in use"
DESCRIPTION = """\
Record this environment in a lock file to commit next to your training code.
The lock holds no secrets, hostnames, GPU UUIDs or serials. The write is
atomic: an interrupted run leaves the previous lock intact.

--scope software leaves out the driver and GPUs (for locks made on CI
machines without GPUs). --determinism also runs the seeded determinism
suite and records its tensor digests.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-o",
        "--output",
        default=DEFAULT_LOCK_NAME,
        metavar="FILE",
        help=f"where to write the lock (default {DEFAULT_LOCK_NAME}; '-' for stdout)",
    )
    parser.add_argument(
        "--scope",
        choices=SCOPES,
        default="full",
        help="full (default) or software: without driver and GPU fields",
    )
    parser.add_argument(
        "--determinism", action="store_true", help="run the determinism suite and lock its digests"
    )
    parser.add_argument("--seed", type=int, default=0, help="determinism seed (default 0)")
    parser.add_argument(
        "--device",
        choices=("auto", "cpu", "cuda"),
        default="auto",
        help="determinism device (default: cuda if available, else cpu)",
    )
    add_source_arguments(parser)


def run(args: argparse.Namespace) -> int:
    facts = collect_facts(args)
    if args.determinism:
        from envlock.determinism import run_suite, run_to_run_findings
        from envlock.errors import DeterminismError

        det = run_suite(device=args.device, seed=args.seed, python=args.python)
        bad = [f for f in run_to_run_findings(det) if f.severity.label == "error"]
        if bad:
            raise DeterminismError(
                f"not locking nondeterministic digests: {bad[0].message}"
                + (f" (and {len(bad) - 1} more)" if len(bad) > 1 else "")
            )
        facts = facts.replace(determinism=det)
    lock = build_lock(facts, scope=args.scope)
    regen = _regenerate_args(args)
    if args.output == "-":
        sys.stdout.write(dumps_lock(lock, args=regen))
        return 0
    image = [
        f" --{o} {shlex.quote(getattr(args, o))}"
        for o in ("image", "container")
        if getattr(args, o, None)
    ]
    write_lock(
        args.output, dumps_lock(lock, name=args.output, args=regen, verify_args="".join(image))
    )
    print(f"wrote {args.output} ({_summary(lock)})", file=sys.stderr)
    return 0


def _regenerate_args(args: argparse.Namespace) -> str:
    parts: list[str] = []
    if args.output != DEFAULT_LOCK_NAME:
        parts += ["-o", args.output]
    if args.scope != "full":
        parts += ["--scope", args.scope]
    if args.determinism:
        parts.append("--determinism")
        if args.seed:
            parts += ["--seed", str(args.seed)]
        if args.device != "auto":
            parts += ["--device", args.device]
    for opt in ("image", "container", "python"):
        value = getattr(args, opt, None)
        if value:
            parts += [f"--{opt}", value]
    return "".join(" " + shlex.quote(p) for p in parts)


def _summary(lock: dict[str, object]) -> str:
    torch = lock.get("torch")
    bits = [f"torch {torch.get('version')}" if isinstance(torch, dict) else "no torch"]
    hw = lock.get("hardware")
    if isinstance(hw, dict):
        bits.append(f"{hw.get('gpu-count')} GPU(s)")
    pk = lock.get("packages")
    bits.append(f"{len(pk) if isinstance(pk, dict) else 0} packages")
    if "determinism" in lock:
        bits.append("determinism digests")
    return ", ".join(bits)
