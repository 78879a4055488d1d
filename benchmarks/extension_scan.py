"""What the extension scan costs `envlock doctor`, in the CUDA-torch virtualenv.

    python benchmarks/extension_scan.py [--python PY] [--runs N] [--site DIR ...]

`doctor` runs in a fresh interpreter of the venv each time (torch imported in the
probe's child, as for a user), with these on the path as extra site directories
(default: the torchvision 0.29.1 wheel unpacked by .ci/provision-extensions.sh, two
extensions that link torch and CUDA, 8 MB of fatbins):
  without   the extension scan replaced by an empty section
  warm      the scan, its per-file cache (livecache.py) filled by an earlier run
  cold      the scan with an empty cache directory each run (reads and hashes every file)
Each round runs the three modes in a shuffled order; the medians and the ratios to `without` are printed
(target: warm <= 1.1x). Also the scan alone (extensions.collect) cold and warm.
Asserts nothing: timings are noisy; the report quotes them.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VENVS = Path(os.environ.get("ENVLOCK_TEST_VENVS", Path.home() / ".cache/envlock-test/venvs"))
ASSETS = Path(
    os.environ.get(
        "ENVLOCK_TEST_EXT_ASSETS", Path.home() / ".cache" / "envlock-test" / "extensions14"
    )
)

DOCTOR = """
import sys
if sys.argv[1] == "without":
    import envlock.probe.extensions as x
    x.collect = lambda *a, **k: {"unavailable": "scan off (benchmark)", "items": []}
import envlock.api as api
report = api.doctor()
"""
SCAN = """
import json, sys, time
from envlock.livecache import load_extension_cache, store_extension_cache
from envlock.probe import extensions
cache = load_extension_cache()
t0 = time.perf_counter()
section = extensions.collect(cache=cache)
seconds = time.perf_counter() - t0
store_extension_cache(cache)
print(json.dumps({"seconds": seconds, "files": section["files_scanned"],
                  "extensions": len(section["items"])}))
"""


def run(py: str, code: str, mode: str, env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run([py, "-c", code, mode], capture_output=True, env=env, check=True)
    return time.perf_counter() - t0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=str(VENVS / "torch-cuda/bin/python"))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--site", action="append", default=None, help="extra site directory")
    args = parser.parse_args()
    if not os.access(args.python, os.X_OK):
        print(f"no interpreter at {args.python}", file=sys.stderr)
        return 3
    sites = args.site if args.site is not None else [str(ASSETS / "tv")]
    path = os.pathsep.join([str(REPO), *sites])
    with tempfile.TemporaryDirectory(prefix="envlock-bench-") as tmp:
        warm_dir = Path(tmp) / "warm"
        base = dict(os.environ, PYTHONPATH=path)
        warm_env = dict(base, ENVLOCK_CACHE_DIR=str(warm_dir))
        run(args.python, DOCTOR, "with", warm_env)  # warm-up: page cache, scan cache, pyc
        samples: dict[str, list[float]] = {"without": [], "warm": [], "cold": []}
        order = random.Random(14)
        for i in range(args.runs):
            cold_env = dict(base, ENVLOCK_CACHE_DIR=str(Path(tmp) / f"cold{i}"))
            modes = [("without", warm_env), ("warm", warm_env), ("cold", cold_env)]
            order.shuffle(modes)  # no mode always runs right after another
            for name, env in modes:
                samples[name].append(
                    run(args.python, DOCTOR, "without" if name == "without" else "with", env)
                )
        scans = {}
        import json

        for name, env in (
            ("cold", dict(base, ENVLOCK_CACHE_DIR=str(Path(tmp) / "scan"))),
            ("warm", dict(base, ENVLOCK_CACHE_DIR=str(Path(tmp) / "scan"))),
        ):
            out = subprocess.run(
                [args.python, "-c", SCAN], capture_output=True, text=True, env=env, check=True
            )
            scans[name] = json.loads(out.stdout)
    med = {k: statistics.median(v) for k, v in samples.items()}
    print(f"interpreter: {args.python}  runs: {args.runs} (median)  cpus: {os.cpu_count()}")
    print(f"extra site directories: {', '.join(sites) or '(none)'}")
    print(f"doctor without the extension scan   {med['without']:7.3f} s")
    print(f"doctor with the scan, warm cache    {med['warm']:7.3f} s")
    print(f"  ratio {med['warm'] / med['without']:.3f}  (target <= 1.100)")
    print(f"doctor with the scan, cold cache    {med['cold']:7.3f} s")
    print(f"  ratio {med['cold'] / med['without']:.3f}")
    for name, s in scans.items():
        print(
            f"extensions.collect alone, {name}: {s['seconds'] * 1000:7.1f} ms "
            f"({s['files']} shared objects, {s['extensions']} link torch/CUDA)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
