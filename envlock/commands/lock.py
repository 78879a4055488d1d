"""envlock lock: write envlock.lock.toml from the facts of this machine (or image, or file)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from envlock.commands._source import add_source_arguments, source_of
from envlock.lock.model import DEFAULT_LOCK_NAME, SCOPES

if TYPE_CHECKING:
    from envlock.api import LockFile
    from envlock.lock.model import Lock
    from envlock.report.progress import Progress

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
    parser.add_argument(
        "--hashes",
        action="store_true",
        help="record sha256 hashes of the files that fit this platform, from the package "
        "index's JSON API (PEP 691; the index pip is configured with)",
    )
    parser.add_argument(
        "--hashes-from",
        metavar="PYLOCK",
        help="with --hashes: take the files and hashes a resolver's PEP 751 lock "
        "(pylock.*.toml) has for the locked versions; the index gives the rest",
    )
    parser.add_argument(
        "--allow-partial",
        action="store_true",
        help="lock partial facts without torch (an image without a usable python3); "
        "refused otherwise",
    )
    add_source_arguments(parser)


def run(args: argparse.Namespace) -> None:
    from envlock.report.progress import on_stderr

    progress = on_stderr("envlock lock")
    try:
        result = _lock_file(args, progress)
    finally:
        progress.close()
    lock = result.lock
    for note in lock.notes:  # what was left out or escaped so that the lock reads back
        print(f"envlock lock: note: {note}", file=sys.stderr)
    if result.path is None:
        sys.stdout.write(result.text)
        return
    print(f"wrote {result.path} ({_summary(lock)})", file=sys.stderr)
    for finding in result.unrestorable:
        print(f"envlock lock: note: {finding.message} ({finding.check_id})", file=sys.stderr)
    if args.allow_partial and lock.torch is None:
        print(
            f"envlock lock: warning: {result.path} holds partial facts: torch was not observed, "
            "so verify cannot compare it",
            file=sys.stderr,
        )


def _summary(lock: Lock) -> str:
    bits = [f"torch {lock.torch.version}" if lock.torch else "no torch"]
    if lock.hardware is not None:
        bits.append(f"{lock.hardware.gpu_count} GPU(s)")
    bits.append(f"{len(lock.packages)} packages")
    if lock.determinism is not None:
        bits.append("determinism digests")
    return ", ".join(bits)


def _lock_file(args: argparse.Namespace, progress: Progress) -> LockFile:
    from envlock import api

    return api.lock_file(
        None if args.output == "-" else args.output,
        source_of(args),
        scope=args.scope,
        determinism=args.determinism,
        seed=args.seed,
        device=args.device,
        allow_partial=args.allow_partial,
        hashes=args.hashes,
        hashes_from=args.hashes_from,
        progress=progress,
    )
