"""`envlock fleet report DIR` at 100 / 1,000 / 10,000 nodes (issue 16: <= 3 s at 10,000 on
2 cores, bounded memory).

Each node file is a real probe's size: tests/fixtures/facts.cuda-venv+h100-driver-580-
replayed.json (~11 KB) with host name, collection time, timings and GPU UUID varied per
node, and three kinds of drift (tests/fleet/nodes.py: an old driver on two nodes, an extra
NCCL variable on one, another torch build on 1/64th of the fleet). Also a worst case where
every node's content differs (a different package version on each), which no summary
can be shared by. Prints wall seconds (best of --repeat), peak RSS and output size per
format.

    python benchmarks/fleet_scale.py [--sizes 100,1000,10000] [--repeat 3]
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


def run(args: list[str], env: dict[str, str]) -> tuple[int, float, int]:
    """(exit code, seconds, stdout bytes) of one `python -m envlock ARGS`."""
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.run(
            [sys.executable, "-m", "envlock", *args], stdout=out, stderr=subprocess.PIPE, env=env
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
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    cpu, rss = out.stdout.split()
    return float(cpu), int(rss) // 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", default="100,1000,10000")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--formats", default="text,json,html")
    ap.add_argument("--worst-case", action="store_true", help="also every node different")
    opts = ap.parse_args()
    env = dict(os.environ, PYTHONPATH=str(REPO))
    sizes = [int(s) for s in opts.sizes.split(",")]
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.1f}; wall and CPU seconds: best of {opts.repeat}"
    )
    print(
        f"{'case':<28}{'format':<8}{'exit':>5}{'wall s':>8}{'CPU s':>7}{'peak MiB':>10}"
        f"{'out KiB':>9}"
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
            size = sum(p.stat().st_size for p in d.iterdir()) // len(list(d.iterdir()))
            for fmt in opts.formats.split(","):
                args = ["fleet", "report", str(d), "--format", fmt]
                best = min(run(args, env)[1] for _ in range(opts.repeat))
                code, _, out = run(args, env)
                usage = [child_usage(args, env) for _ in range(opts.repeat)]
                cpu, peak = min(u[0] for u in usage), max(u[1] for u in usage)
                print(
                    f"{label:<28}{fmt:<8}{code:>5}{best:>8.2f}{cpu:>7.2f}{peak:>10}"
                    f"{out // 1024:>9}   (files ~{size // 1024} KiB)"
                )


if __name__ == "__main__":
    main()
