"""Probe speed against the tools it replaces, in the CUDA-torch virtualenv.

    python benchmarks/probe_speed.py [--python PY] [--runs N]
    python benchmarks/probe_speed.py --commands [--baseline DIR]   # doctor, explain 137

Times, as the median of N runs after one warm-up each:
  static probe  `python -m envlock.probe --no-torch-live`  vs  `python -m torch.utils.collect_env`
      (target: <= 1/10)
  full probe    `python -m envlock.probe`                  vs  `python -c "import torch"`
      (target: <= 1.2x; the static sources run while the torch child imports torch)
With --commands, N interleaved rounds (one run of each command per round), medians:
  `envlock doctor`, second run (torch's live facts cached)  vs  `python -c "import torch"`
      (target <= 0.10)
  `envlock explain 137`  (target < 0.3 s: no torch, here or in a child)
and wall and CPU seconds (user + system, the children's included: on a loaded
machine the CPU time is the steadier measure); --baseline DIR times another checkout's
commands in the same rounds (its doctor has no cache: every run imports torch).
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


def run_once(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds (this child's and its children's) of one run. `-m envlock`
    runs from the working directory first: each checkout's runs from its own tree."""
    before = os.times()
    t0 = time.perf_counter()
    subprocess.run(cmd, capture_output=True, env=env, cwd=env["PYTHONPATH"], check=False)
    wall = time.perf_counter() - t0
    after = os.times()
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    return wall, cpu


def compile_trees(trees: dict[str, str]) -> None:
    """Bytecode for each checkout, as run_all.py does: under PYTHONDONTWRITEBYTECODE=1 a
    module edited (or copied) since its .pyc is compiled from source in every run of that
    side only, which made a copied baseline look ~0.1 s slower. Outside the timed runs."""
    for tree in trees.values():
        subprocess.run(
            [sys.executable, "-m", "compileall", "-q", str(Path(tree) / "envlock")],
            stdout=subprocess.DEVNULL,
            check=False,
        )


def commands(py: str, runs: int, baseline: str | None) -> int:
    """doctor's second run against `import torch`, and explain 137, interleaved."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="envlock-bench-commands-") as tmp:
        trees = {"new": str(REPO)}
        if baseline:
            trees["baseline"] = str(Path(baseline).resolve())
        envs = {
            label: dict(os.environ, PYTHONPATH=tree, ENVLOCK_CACHE_DIR=f"{tmp}/cache-{label}")
            for label, tree in trees.items()
        }
        cmds: dict[str, tuple[list[str], dict[str, str]]] = {
            "import torch": ([py, "-c", "import torch"], envs["new"])
        }
        for label, env in envs.items():
            run_once([py, "-m", "envlock", "doctor"], env)  # fills the cache
            cmds[f"doctor ({label})"] = ([py, "-m", "envlock", "doctor"], env)
            cmds[f"explain 137 ({label})"] = ([py, "-m", "envlock", "explain", "137"], env)
        samples: dict[str, list[tuple[float, float]]] = {name: [] for name in cmds}
        for _ in range(runs):
            compile_trees(trees)
            for name, (cmd, env) in cmds.items():
                samples[name].append(run_once(cmd, env))
    wall = {n: statistics.median(w for w, _ in s) for n, s in samples.items()}
    cpu = {n: statistics.median(c for _, c in s) for n, s in samples.items()}
    print(f"interpreter: {py}  rounds: {runs} (interleaved, medians)  cpus: {os.cpu_count()}")
    for name in cmds:
        print(f"{name:24} wall {wall[name]:7.3f} s   cpu {cpu[name]:7.3f} s")
    for label in trees:
        doctor = f"doctor ({label})"
        print(
            f"{label}: doctor second run / import torch: wall {wall[doctor] / wall['import torch']:.3f}"
            f", cpu {cpu[doctor] / cpu['import torch']:.3f}  (target <= 0.100)"
        )
        print(
            f"{label}: explain 137: wall {wall[f'explain 137 ({label})']:.3f} s  (target < 0.3 s)"
        )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=str(DEFAULT_PY), help="interpreter with torch")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--commands", action="store_true", help="doctor and explain 137")
    parser.add_argument("--baseline", metavar="DIR", help="--commands: another checkout too")
    args = parser.parse_args()
    if not os.access(args.python, os.X_OK):
        print(f"no interpreter at {args.python}", file=sys.stderr)
        return 3
    if args.commands:
        return commands(args.python, args.runs, args.baseline)
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
