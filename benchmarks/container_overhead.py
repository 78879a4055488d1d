"""Overhead of `envlock probe --image IMG --json` over a bare `docker run`.

Both run in one process, interleaved, N times each; prints the medians and their
ratio (target: <= 1.2x, issue 23). Needs the engine and images from .ci/provision-docker.sh
and .ci/build-test-images.sh.

    python benchmarks/container_overhead.py [--image IMG] [-n N]
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


def timed(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, check=False
    )
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd[:6])}... failed: {proc.stderr.decode().strip()}")
    return elapsed


def pair(image: str, python: str = sys.executable) -> tuple[list[str], list[str]]:
    """(the bare `docker run`, `envlock probe --image`): the pair this script and
    benchmarks/run_all.py compare."""
    bare = ["docker", "run", "--rm", "--network", "none", image, "python3", "-c", "pass"]
    return bare, [python, "-m", "envlock", "probe", "--image", image, "--json"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--image", default="envlock-test/python:bookworm")
    ap.add_argument("-n", type=int, default=15, help="runs of each (default 15)")
    args = ap.parse_args()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    bare, envlock = pair(args.image)
    variants = {
        "docker run --rm python3 -c pass": bare,
        "envlock probe --image --json": envlock,
        "envlock probe --image --json --no-torch-live": [*envlock, "--no-torch-live"],
        "python -m envlock --version (host start-up)": [
            sys.executable,
            "-m",
            "envlock",
            "--version",
        ],
    }
    # Bytecode as `pip install` leaves it (PYTHONDONTWRITEBYTECODE=1 would otherwise
    # make every run recompile envlock from source, which no installed copy does).
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(REPO / "envlock")],
        stdout=subprocess.DEVNULL,
        check=True,
    )
    for cmd in variants.values():  # warm the page cache and the daemon
        timed(cmd, env)
    samples: dict[str, list[float]] = {k: [] for k in variants}
    for _ in range(args.n):
        for name, cmd in variants.items():
            samples[name].append(timed(cmd, env))
    med = {k: statistics.median(v) for k, v in samples.items()}
    for name, m in med.items():
        spread = statistics.quantiles(samples[name], n=4) if args.n >= 4 else [m, m, m]
        print(
            f"{name:48} median {m * 1000:7.1f} ms  (IQR {spread[0] * 1000:.0f}-"
            f"{spread[2] * 1000:.0f} ms, n={args.n})"
        )
    ratio = med["envlock probe --image --json"] / med["docker run --rm python3 -c pass"]
    print(f"ratio envlock probe / bare docker run: {ratio:.2f}x (target <= 1.2x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
