"""How long the determinism suite takes (reported, never asserted in tests).

    python benchmarks/determinism_speed.py [--python PY] [--device cpu|cuda|auto] [--repeat 3]

For each repeat it runs envlock.determinism.run_suite (a fresh child process)
and reports:
  wall      whole call: interpreter start, torch import, both runs, digests
  workload  both runs of every class with digests and summaries (child's clock)
  per class one run of each class (child's clock, first run: includes CUDA warm-up)
Targets from the issue: the suite <= 10 s on the 2-core CPU dev machine and
<= 2 s on an H100 (the workload; the torch import alone is ~2 s on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from envlock.determinism import CLASSES
from envlock.determinism.runner import run_suite

TARGET_S = {"cpu": 10.0, "cuda": 2.0}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--python", default=None, help="interpreter with torch (default: this one)")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--json", action="store_true", help="print the numbers as JSON")
    args = p.parse_args()

    walls: list[float] = []
    workloads: list[float] = []
    per_class: dict[str, list[float]] = {name: [] for name in CLASSES}
    device = context = None
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        d = run_suite(device=args.device, python=args.python)
        walls.append(time.perf_counter() - t0)
        workloads.append(d.seconds or 0.0)
        for name, c in d.classes.items():
            per_class.setdefault(name, []).append(c.seconds or 0.0)
        device, context = d.device, d.context

    assert device is not None and context is not None
    cpu = f"{context.get('cpu_model')}, {context.get('num_threads')} threads"
    where = context.get("gpu_name") or cpu
    result = {
        "device": device,
        "where": where,
        "torch": context.get("torch"),
        "repeat": args.repeat,
        "wall_s": {"min": min(walls), "median": statistics.median(walls), "max": max(walls)},
        "workload_s": {
            "min": min(workloads),
            "median": statistics.median(workloads),
            "max": max(workloads),
        },
        "per_class_median_s": {k: statistics.median(v) for k, v in per_class.items() if v},
        "target_s": TARGET_S[device],
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"determinism suite on {device} ({where}), torch {result['torch']}, {args.repeat} runs")
    print(f"  wall      min {min(walls):6.2f} s   median {statistics.median(walls):6.2f} s")
    print(
        f"  workload  min {min(workloads):6.2f} s   median {statistics.median(workloads):6.2f} s"
        f"   (target <= {TARGET_S[device]:g} s: "
        f"{'met' if statistics.median(workloads) <= TARGET_S[device] else 'MISSED'})"
    )
    for name, secs in result["per_class_median_s"].items():
        print(f"    {name:<12} {secs * 1000:8.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
