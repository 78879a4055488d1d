"""Probe speed against the tools it replaces, in the CUDA-torch virtualenv.

    python benchmarks/probe_speed.py [--python PY] [--runs N]

Times, as the median of N runs after one warm-up each:
  static probe  `python -m envlock.probe --no-torch-live`  vs  `python -m torch.utils.collect_env`
      (target: <= 1/10)
  full probe    `python -m envlock.probe`                  vs  `python -c "import torch"`
      (target: <= 1.2x; the static sources run while the torch child imports torch)
Prints the ratios; asserts nothing (timings are noisy; the report quotes them).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_PY = (
    Path(os.environ.get("ENVLOCK_TEST_VENVS", Path.home() / ".cache/envlock-test/venvs"))
    / "torch-cuda/bin/python"
)


def timed(cmd: list[str], runs: int, env: dict[str, str]) -> float:
    subprocess.run(cmd, capture_output=True, env=env, check=True)  # warm the page cache
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, capture_output=True, env=env, check=True)
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=str(DEFAULT_PY), help="interpreter with torch")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if not os.access(args.python, os.X_OK):
        print(f"no interpreter at {args.python}", file=sys.stderr)
        return 3
    env = dict(os.environ, PYTHONPATH=str(REPO))
    py = args.python
    static = timed([py, "-m", "envlock.probe", "--no-torch-live"], args.runs, env)
    collect_env = timed([py, "-m", "torch.utils.collect_env"], args.runs, env)
    full = timed([py, "-m", "envlock.probe"], args.runs, env)
    import_torch = timed([py, "-c", "import torch"], args.runs, env)
    print(f"interpreter: {py}  runs: {args.runs} (median)  cpus: {os.cpu_count()}")
    print(f"envlock.probe --no-torch-live  {static:7.3f} s")
    print(f"torch.utils.collect_env        {collect_env:7.3f} s")
    print(f"  ratio {static / collect_env:.3f}  (target <= 0.100)")
    print(f"envlock.probe (full)           {full:7.3f} s")
    print(f'python -c "import torch"       {import_torch:7.3f} s')
    print(f"  ratio {full / import_torch:.3f}  (target <= 1.200)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
