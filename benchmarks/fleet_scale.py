"""`envlock fleet report DIR` at 100 / 1,000 / 10,000 nodes (issue 16: <= 3 s at 10,000 on
2 cores, bounded memory).

Each node file is a real probe's size: tests/fixtures/facts.cuda-venv+h100-driver-580-
replayed.json (~11 KB) with host name, collection time, timings and GPU UUID varied per
node, and three kinds of drift (tests/fleet/nodes.py: an old driver on two nodes, an extra
NCCL variable on one, another torch build on 1/64th of the fleet). Also a worst case where
every node's content differs (a different package version on each), which no summary
can be shared by. Prints wall seconds (best of --repeat), peak RSS and output size per
format.

`--baseline DIR` compares with another checkout (`git worktree add DIR <commit>`) in the
same run: each case runs on both trees in turn (old, new, old, new, ...), so a machine
shared with other work loads both alike; the last column is new / old CPU seconds.

    python benchmarks/fleet_scale.py [--sizes 100,1000,10000] [--repeat 3] [--worst-case]
        [--baseline /tmp/fleet-old]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.fleet.nodes import three_drifts, write_fleet  # noqa: E402


def tree_env(tree: Path) -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(tree))


def run(args: list[str], env: dict[str, str]) -> tuple[int, float, int]:
    """(exit code, seconds, stdout bytes) of one `python -m envlock ARGS` (from the tree on
    PYTHONPATH: `-m` puts the working directory first, so it runs there)."""
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.run(
            [sys.executable, "-m", "envlock", *args],
            stdout=out,
            stderr=subprocess.PIPE,
            env=env,
            cwd=env["PYTHONPATH"],
        )
        size = out.tell()
    dt = time.perf_counter() - t0
    if proc.returncode not in (0, 1):
        raise SystemExit(f"envlock {' '.join(args)} exited {proc.returncode}: {proc.stderr!r}")
    return proc.returncode, dt, size


def child_usage(args: list[str], env: dict[str, str]) -> tuple[float, int]:
    """(CPU seconds user+sys, peak RSS MiB) of one run, from getrusage(RUSAGE_CHILDREN) in a
    fresh parent: CPU time does not count the wait for cores other processes hold."""
    script = (
        "import resource, subprocess, sys;"
        f"subprocess.run([sys.executable, '-m', 'envlock', *{args!r}], "
        "stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL);"
        "u = resource.getrusage(resource.RUSAGE_CHILDREN);"
        "print(u.ru_utime + u.ru_stime, u.ru_maxrss)"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        cwd=env["PYTHONPATH"],
        capture_output=True,
        text=True,
        check=True,
    )
    cpu, rss = out.stdout.split()
    return float(cpu), int(rss) // 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", default="100,1000,10000")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--formats", default="text,json,html")
    ap.add_argument("--worst-case", action="store_true", help="also every node different")
    ap.add_argument("--baseline", type=Path, help="another checkout to compare with, in turn")
    opts = ap.parse_args()
    trees = {"new": REPO} if opts.baseline is None else {"old": opts.baseline, "new": REPO}
    sizes = [int(s) for s in opts.sizes.split(",")]
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.1f}; wall and CPU seconds: best of {opts.repeat}"
    )
    print(
        f"{'case':<28}{'format':<8}{'tree':<5}{'exit':>5}{'wall s':>8}{'CPU s':>7}"
        f"{'peak MiB':>10}{'out KiB':>9}{'new/old CPU':>13}"
    )
    with tempfile.TemporaryDirectory(prefix="envlock-fleet-scale-") as tmp:
        cases = []
        for n in sizes:
            d = Path(tmp) / f"fleet-{n}"
            write_fleet(d, n, three_drifts(n))
            cases.append((f"{n} nodes, 3 drifts", d))
            if opts.worst_case:
                w = Path(tmp) / f"distinct-{n}"
                write_fleet(
                    w, n, {i: [("packages.distributions.numpy", f"2.{i}.0")] for i in range(n)}
                )
                cases.append((f"{n} nodes, all distinct", w))
        for label, d in cases:
            for fmt in opts.formats.split(","):
                measure(label, fmt, ["fleet", "report", str(d), "--format", fmt], trees, opts)


def measure(
    label: str, fmt: str, args: list[str], trees: dict[str, Path], opts: argparse.Namespace
) -> None:
    """One case on each tree, the trees in turn: one line per tree."""
    walls: dict[str, list[float]] = {t: [] for t in trees}
    usage: dict[str, list[tuple[float, int]]] = {t: [] for t in trees}
    for _ in range(opts.repeat):
        for name, tree in trees.items():
            walls[name].append(run(args, tree_env(tree))[1])
            usage[name].append(child_usage(args, tree_env(tree)))
    cpu = {t: min(u[0] for u in usage[t]) for t in trees}
    for name, tree in trees.items():
        code, _, out = run(args, tree_env(tree))
        peak = max(u[1] for u in usage[name])
        ratio = f"{cpu['new'] / cpu['old']:>13.2f}" if name == "new" and "old" in cpu else ""
        print(
            f"{label:<28}{fmt:<8}{name:<5}{code:>5}{min(walls[name]):>8.2f}{cpu[name]:>7.2f}"
            f"{peak:>10}{out // 1024:>9}{ratio}",
            flush=True,
        )


if __name__ == "__main__":
    main()
