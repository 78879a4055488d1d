"""`envlock fleet report` at 100 / 1,000 / 10,000 nodes (issue 16: <= 3 s at 10,000 on
2 cores, bounded memory; issue 23: the worst cases).

Each node file is a real probe's size: tests/fixtures/facts.cuda-venv+h100-driver-580-
replayed.json (~11 KB) with host name, collection time, timings and GPU UUID varied per
node, and three kinds of drift (tests/fleet/nodes.py: an old driver on two nodes, an extra
NCCL variable on one, another torch build on 1/64th of the fleet). `--worst-case` adds
the two fleets no summary can be shared by (issue 23 item 3, as benchmarks/run_all.py
builds them): every node with a package no other node has (a long tail: comparison must
cost O(nodes + distinct values), not nodes x fields), and another numpy version on every
node. Prints wall and CPU seconds (medians of --repeat), peak RSS and output size per
format; `--json-load` adds a bare `json.load` of the same files as a reference line.

`--baseline DIR` compares with another checkout (`git archive <commit> | tar -x -C DIR`)
in the same run: each case runs on both trees in turn (old, new, old, new, ...), so a
machine shared with other work loads both alike; the last column is new / old CPU
seconds. A run past `--timeout` seconds is stopped and shown as such.

    python benchmarks/fleet_scale.py [--sizes 100,1000,10000] [--repeat 3] [--worst-case]
        [--formats text,json,html] [--json-load] [--baseline /tmp/fleet-old] [--timeout 600]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.fleet.nodes import three_drifts, write_fleet  # noqa: E402


def tree_env(tree: Path) -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(tree))


_JSON_LOAD = (
    "import json, os, sys\n"
    "d = sys.argv[1]\n"
    "for n in os.listdir(d):\n"
    "    with open(os.path.join(d, n), 'rb') as f:\n"
    "        json.load(f)\n"
)


def child_usage(
    argv: list[str], env: dict[str, str], timeout: float
) -> tuple[float, float, int, int]:
    """(wall s, CPU s user+sys, peak RSS MiB, stdout bytes) of one command, CPU and RSS
    from getrusage(RUSAGE_CHILDREN) in a fresh parent (CPU time does not count the wait
    for cores other processes hold; it includes the forked reader of a large fleet,
    `envlock/fleet/split.py`, and peak RSS is the larger process's); wall -1 when it ran
    past `timeout`."""
    script = (
        "import resource, subprocess, sys, tempfile, time\n"
        "t0 = time.perf_counter()\n"
        "with tempfile.TemporaryFile() as out:\n"
        "    try:\n"
        f"        p = subprocess.run({argv!r}, stdout=out, stderr=subprocess.PIPE, "
        f"timeout={timeout!r})\n"
        "        code, wall = p.returncode, time.perf_counter() - t0\n"
        "    except subprocess.TimeoutExpired:\n"
        "        code, wall = 0, -1.0\n"
        "    size = out.tell()\n"
        "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print(code, wall, u.ru_utime + u.ru_stime, u.ru_maxrss, size)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        cwd=env["PYTHONPATH"],
        capture_output=True,
        text=True,
        check=True,
    )
    code, wall, cpu, rss, size = out.stdout.split()
    if int(code) not in (0, 1):
        raise SystemExit(f"{' '.join(argv)} exited {code}")
    return float(wall), float(cpu), int(rss) // 1024, int(size)


def fleets(tmp: Path, sizes: list[int], worst_case: bool) -> list[tuple[str, Path]]:
    """The fleets to report on, written compact (as `envlock probe --json` writes them)."""
    cases = []
    for n in sizes:
        d = tmp / f"fleet-{n}"
        write_fleet(d, n, three_drifts(n), indent=None)
        cases.append((f"{n} nodes, 3 drifts", d))
        if worst_case:
            u = tmp / f"unique-{n}"
            write_fleet(
                u,
                n,
                {i: [(f"packages.distributions.only-on-{i}", "1.0")] for i in range(n)},
                indent=None,
            )
            cases.append((f"{n} nodes, a package each", u))
            w = tmp / f"distinct-{n}"
            write_fleet(
                w,
                n,
                {i: [("packages.distributions.numpy", f"2.{i}.0")] for i in range(n)},
                indent=None,
            )
            cases.append((f"{n} nodes, numpy each", w))
    return cases


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", default="100,1000,10000")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--formats", default="text,json,html")
    ap.add_argument("--worst-case", action="store_true", help="also every node different")
    ap.add_argument("--json-load", action="store_true", help="also a bare json.load per case")
    ap.add_argument("--baseline", type=Path, help="another checkout to compare with, in turn")
    ap.add_argument("--timeout", type=float, default=600, help="seconds before a run is stopped")
    opts = ap.parse_args()
    trees = {"new": REPO} if opts.baseline is None else {"old": opts.baseline, "new": REPO}
    sizes = [int(s) for s in opts.sizes.split(",")]
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.1f}; wall and CPU seconds: medians of {opts.repeat}"
    )
    print(
        f"{'case':<28}{'format':<8}{'tree':<5}{'wall s':>8}{'CPU s':>7}"
        f"{'peak MiB':>10}{'out KiB':>9}{'new/old CPU':>13}"
    )
    with tempfile.TemporaryDirectory(prefix="envlock-fleet-scale-") as tmp:
        for label, d in fleets(Path(tmp), sizes, opts.worst_case):
            if opts.json_load:
                argv = [sys.executable, "-c", _JSON_LOAD, str(d)]
                measure(label, "-", {"json": argv}, {"json": REPO}, opts)
            for fmt in opts.formats.split(","):
                argv = [sys.executable, "-m", "envlock", "fleet", "report", str(d), "--format", fmt]
                measure(label, fmt, {t: argv for t in trees}, trees, opts)


def measure(
    label: str,
    fmt: str,
    argv: dict[str, list[str]],
    trees: dict[str, Path],
    opts: argparse.Namespace,
) -> None:
    """One case on each tree, the trees in turn: one line per tree (medians)."""
    runs: dict[str, list[tuple[float, float, int, int]]] = {t: [] for t in trees}
    for _ in range(opts.repeat):
        for name, tree in trees.items():
            runs[name].append(child_usage(argv[name], tree_env(tree), opts.timeout))
    cpu = {t: statistics.median(r[1] for r in runs[t]) for t in trees}
    for name in trees:
        walls = [r[0] for r in runs[name]]
        wall = (
            f"{statistics.median(walls):>8.2f}"
            if min(walls) >= 0
            else f"{'>' + str(opts.timeout):>8}"
        )
        peak = max(r[2] for r in runs[name])
        size = runs[name][-1][3]
        ratio = f"{cpu['new'] / cpu['old']:>13.2f}" if name == "new" and "old" in cpu else ""
        print(
            f"{label:<28}{fmt:<8}{name:<5}{wall}{cpu[name]:>7.2f}{peak:>10}{size // 1024:>9}{ratio}",
            flush=True,
        )


if __name__ == "__main__":
    main()
