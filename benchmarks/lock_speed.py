"""`envlock lock` (full closure, no --hashes, static probe) against torch's collect_env.

    python benchmarks/lock_speed.py [--python PY] [--runs N]

Times, as the median of N runs after one warm-up each, in the torch-cpu venv:
  `envlock lock --python PY --no-torch-live -o -`  vs  `PY -m torch.utils.collect_env`
      (target: <= 0.2)
Prints the ratio; asserts nothing (timings are noisy; the report quotes them).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from probe_speed import timed  # benchmarks/ is on sys.path when run as a script

REPO = Path(__file__).resolve().parent.parent
DEFAULT_PY = (
    Path(os.environ.get("ENVLOCK_TEST_VENVS", Path.home() / ".cache/envlock-test/venvs"))
    / "torch-cpu/bin/python"
)


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
    lock_cmd = [sys.executable, "-m", "envlock", "lock", "--python", py, "--no-torch-live"]
    lock = timed([*lock_cmd, "-o", "-"], args.runs, env)
    collect_env = timed([py, "-m", "torch.utils.collect_env"], args.runs, env)
    out = subprocess.run([*lock_cmd, "-o", "-"], capture_output=True, text=True, env=env)
    count = out.stdout.split("[packages]", 1)[-1].split("\n[", 1)[0].count(" = ")
    print(f"interpreter: {py}  runs: {args.runs} (median)  cpus: {os.cpu_count()}")
    print(f"envlock lock --no-torch-live ({count} packages)  {lock:7.3f} s")
    print(f"torch.utils.collect_env                  {collect_env:7.3f} s")
    print(f"  ratio {lock / collect_env:.3f}  (target <= 0.200)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
