"""envlock determinism: run the seeded suite, print per-class digests, flag run-to-run drift."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from envlock.findings import Report

HELP = "run a seeded workload and print its tensor digests per class (rng, matmul, conv, ...)"
DESCRIPTION = """\
Run a fixed, seeded workload under deterministic settings in a child
process (the interpreter that has torch: this one, or --python) and print a
SHA-256 digest of its tensors for each class: rng, elementwise, reduction,
matmul (fp32, TF32, bf16, fp16), conv, attention (forward and backward) and
train (AdamW steps of a small transformer block), with numeric summaries
and the context they depend on (GPU model, compute capability, SM count,
driver, CUDA, cuDNN, cuBLAS, torch; CPU model and threads on CPU).

Every class runs twice in the process; if the two digests differ the class
is nondeterministic here and the command exits 1. To compare machines, lock
the digests with `envlock lock --determinism` and run `envlock verify` on
the other machine: it tells expected differences (another architecture or
library version) from regressions.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--device",
        choices=("auto", "cpu", "cuda"),
        default="auto",
        help="where to run the suite (default: cuda if available, else cpu)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the workload (default 0)")
    parser.add_argument(
        "--python",
        metavar="PY",
        help="interpreter that has torch (default: the one running envlock)",
    )
    parser.add_argument(
        "--format",
        choices=("text", "json", "html"),
        default="text",
        help="output format (default text; html: one self-contained page)",
    )
    parser.add_argument("--strict", action="store_true", help="warnings fail too")
    parser.add_argument(
        "--timeout",
        type=float,
        default=300.0,
        metavar="S",
        help="time limit for the suite, seconds (default 300)",
    )


def run(args: argparse.Namespace) -> Report:
    from envlock.api import run_determinism
    from envlock.report import render
    from envlock.report.digests import render_digests
    from envlock.report.progress import on_stderr

    progress = on_stderr("envlock determinism")
    try:
        det, report = run_determinism(
            device=args.device,
            seed=args.seed,
            python=args.python,
            timeout=args.timeout,
            strict=args.strict,
            progress=progress,
        )
    finally:
        progress.close()
    if args.format in ("json", "html"):
        render(report, args.format, sys.stdout)
    else:
        render_digests(det, sys.stdout)
        render(report, "text", sys.stdout)
    return report
