"""Warm verify, preflight() overhead and fleet scaling (issue: pre-flight and fleet).

    python benchmarks/verify_speed.py [--runs 7] [--ranks 2,4,8,16]

Measured in one run, in the CUDA-torch venv (and the CPU venv for the fleet,
whose ranks import torch.distributed):
  1. warm `envlock verify` (live torch facts from the cache) vs `python -c "import torch"`
     (target <= 0.05x, issue 23);
  2. envlock.preflight() from a process that has not imported torch: time added over
     `python -c pass` (target <= 0.3 s);
  3. `verify --distributed` under torchrun with 2, 4, 8, 16 local gloo ranks.
Medians of --runs; timings on a shared 2-core machine are noisy, compare ratios.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VENVS = Path(os.environ.get("ENVLOCK_TEST_VENVS", Path.home() / ".cache/envlock-test/venvs"))


def timed(cmd: list[str], env: dict[str, str], runs: int, ok=(0,)) -> float:
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        samples.append(time.perf_counter() - t0)
        if proc.returncode not in ok:
            sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr[-500:]}")
    return statistics.median(samples)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def warm_lock(py: str, env: dict[str, str], directory: Path) -> Path:
    """A lock of `py`'s environment in `directory`, verified once so that the caches
    (torch's live facts, the parsed lock) are warm for the runs measured after it.
    benchmarks/run_all.py uses it too."""
    lock = directory / "envlock.lock.toml"
    subprocess.run(
        [py, "-m", "envlock", "lock", "-o", str(lock)],
        env=env,
        check=True,
        capture_output=True,
    )
    subprocess.run([py, "-m", "envlock", "verify", str(lock)], env=env, capture_output=True)
    return lock


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--ranks", default="2,4,8,16")
    args = ap.parse_args()
    cuda_py = str(VENVS / "torch-cuda" / "bin" / "python")
    cpu_venv = VENVS / "torch-cpu" / "bin"
    tmp = Path(tempfile.mkdtemp(prefix="envlock-bench-"))
    env = dict(os.environ, PYTHONPATH=str(REPO), ENVLOCK_CACHE_DIR=str(tmp / "cache"))
    lock = warm_lock(cuda_py, env, tmp)

    t_import = timed([cuda_py, "-c", "import torch"], env, args.runs)
    t_warm = timed([cuda_py, "-m", "envlock", "verify", str(lock)], env, args.runs, ok=(0, 1))
    t_warm_json = timed(
        [cuda_py, "-m", "envlock", "verify", str(lock), "--format", "json"],
        env,
        args.runs,
        ok=(0, 1),
    )
    t_cold = timed([cuda_py, "-m", "envlock", "verify", str(lock), "--no-cache"], env, 3, ok=(0, 1))
    print(f"python -c 'import torch'        {t_import:6.3f} s")
    print(
        f"envlock verify (warm, text)     {t_warm:6.3f} s   ratio {t_warm / t_import:.3f}  (target <= 0.05)"
    )
    print(
        f"envlock verify (warm, json)     {t_warm_json:6.3f} s   ratio {t_warm_json / t_import:.3f}"
    )
    print(f"envlock verify --no-cache       {t_cold:6.3f} s   ratio {t_cold / t_import:.3f}")

    t_pass = timed([cuda_py, "-c", "pass"], env, args.runs)
    script = (
        f"import envlock, envlock.api, sys\n"
        f"envlock.api.check({str(lock)!r}, doctor=True)\n"
        f"assert 'torch' not in sys.modules\n"
    )
    t_pre = timed([cuda_py, "-c", script], env, args.runs)
    print(
        f"preflight check (warm cache)    {t_pre:6.3f} s   adds {t_pre - t_pass:.3f} s over "
        f"`python -c pass` ({t_pass:.3f} s)  (target <= 0.3 s)"
    )

    cpu_py = str(cpu_venv / "python")
    flock = tmp / "fleet.lock.toml"
    subprocess.run(
        [cpu_py, "-m", "envlock", "lock", "--no-torch-live", "-o", str(flock)],
        env=env,
        check=True,
        capture_output=True,
    )
    print("fleet: torchrun --nproc-per-node N -m envlock verify LOCK --distributed --no-torch-live")
    base = None
    for n in [int(x) for x in args.ranks.split(",")]:
        cmd = [
            str(cpu_venv / "torchrun"),
            "--nnodes",
            "1",
            "--nproc-per-node",
            str(n),
            "--master-addr",
            "127.0.0.1",
            "--master-port",
            str(free_port()),
            "-m",
            "envlock",
            "verify",
            str(flock),
            "--distributed",
            "--no-torch-live",
            "--fleet-timeout",
            "300",
        ]
        t = timed(cmd, env, max(1, args.runs // 3))
        base = base or t
        print(f"  {n:3d} ranks  {t:6.2f} s  ({t / base:.2f}x the 2-rank time, {t / n:.2f} s/rank)")


if __name__ == "__main__":
    main()
