"""envlock determinism: run the seeded suite, print per-class digests, flag run-to-run drift."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from envlock.facts import DeterminismFacts
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
        "--format", choices=("text", "json"), default="text", help="output format (default text)"
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

    det, report = run_determinism(
        device=args.device,
        seed=args.seed,
        python=args.python,
        timeout=args.timeout,
        strict=args.strict,
    )
    if args.format == "json":
        render(report, "json", sys.stdout)
    else:
        _render_digests(det, sys.stdout)
        render(report, "text", sys.stdout)
    return report


def _render_digests(d: DeterminismFacts, out: TextIO) -> None:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from envlock.determinism import ordered, short_digest
    from envlock.report.text import console_for

    console = console_for(out)
    ctx = d.context
    if d.device == "cuda":
        where = (
            f"{ctx.get('gpu_name')} (sm {ctx.get('compute_capability')}, "
            f"{ctx.get('sm_count')} SMs), driver {ctx.get('driver')}, "
            f"CUDA {ctx.get('cuda')}, cuDNN {ctx.get('cudnn')}, cuBLAS {ctx.get('cublas')}"
        )
    else:
        where = (
            f"CPU {ctx.get('cpu_model')} ({ctx.get('cpu_capability')}, "
            f"{ctx.get('num_threads')} threads)"
        )
    seconds = f", {d.seconds:.1f} s" if d.seconds is not None else ""
    console.print(f"determinism suite v{d.suite_version}, seed {d.seed}, on {d.device}{seconds}")
    console.print(f"torch {ctx.get('torch')} on {where}")
    flags = ", ".join(f"{k}={v}" for k, v in sorted(d.settings.items()))
    console.print(Text(f"settings: {flags}", style="dim"))
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, expand=False)
    for col in ("class", "digest", "sum", "max |x|", "run-to-run", "seconds"):
        right = col in ("sum", "max |x|", "seconds")
        table.add_column(col, no_wrap=True, justify="right" if right else "left")
    names = ordered(d.classes)
    for name in names:
        c = d.classes[name]
        r2r = (
            Text("ok", style="green")
            if c.run_to_run_identical
            else Text("DIFFERS", style="bold red")
        )
        label = name + ("*" if c.skipped else "")
        table.add_row(
            label,
            short_digest(c.digest)[len("sha256:") :],
            f"{c.summary.sum:.5g}",
            f"{c.summary.max_abs:.5g}",
            r2r,
            f"{c.seconds:.3f}" if c.seconds is not None else "",
        )
    for name, why in sorted(d.failed.items()):
        table.add_row(name, Text("not run", style="yellow"), "", "", "", "")
        console.print(Text(f"{name}: {why}", style="yellow"))
    console.print(table)
    for name in names:
        for op, why in sorted(d.classes[name].skipped.items()):
            console.print(Text(f"* {name}: skipped {op}: {why}", style="dim"))
