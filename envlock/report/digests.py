"""`envlock determinism`'s table of per-class digests, before its findings."""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from envlock.facts import DeterminismFacts


def render_digests(d: DeterminismFacts, out: TextIO) -> None:
    """The suite's run: where it ran, its settings, and a table of the classes' digests
    (with numeric summaries and run-to-run agreement), then what failed or was skipped."""
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
