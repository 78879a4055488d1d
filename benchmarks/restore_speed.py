"""`envlock restore --venv` against `uv venv` + `uv pip sync` of the same requirements.

    python benchmarks/restore_speed.py [--uv UV] [--runs N]

A torch-free venv of small PyPI packages (uv cannot see this machine's local torch
wheels) is locked with --hashes; then, as the median of N runs after one warm-up each
(uv's cache warm for both):
  `envlock restore LOCK --venv DIR --installer uv`   (install + swap + verify)
  `uv venv DIR && uv pip sync --python DIR/bin/python requirements`  (install only)
      (goal: <= 1.2x: envlock adds verification, not install time)
With --torch-cpu: the torch-cpu venv instead, with pip (torch 2.13.0+cpu lies on this
machine's disk, which uv cannot see):
  `envlock restore LOCK --venv DIR --installer pip --torch-index none`
  `python -m venv DIR && DIR/bin/pip install --no-deps -r requirements`
Prints the ratio; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VENVS = Path(os.environ.get("ENVLOCK_TEST_VENVS", Path.home() / ".cache/envlock-test/venvs"))
PACKAGES = (
    "requests==2.32.3",
    "certifi==2024.8.30",
    "charset-normalizer==3.4.0",
    "idna==3.10",
    "urllib3==2.2.3",
    "six==1.17.0",
)


def timed(
    make: list[list[str]], clean: Path, runs: int, env: dict[str, str], *, warm: bool = True
) -> float:
    samples = []
    for i in range(runs + 1 if warm else runs):
        shutil.rmtree(clean, ignore_errors=True)
        t0 = time.perf_counter()
        for cmd in make:
            subprocess.run(cmd, capture_output=True, env=env, check=True)
        if i or not warm:  # the first run warms the caches
            samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uv", default=str(VENVS / "uv-13" / "bin" / "uv"))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--torch-cpu", action="store_true", help="the torch-cpu venv, with pip")
    args = parser.parse_args()
    if args.torch_cpu:
        return torch_cpu(args.runs)
    if not os.access(args.uv, os.X_OK):
        print(f"no uv at {args.uv}", file=sys.stderr)
        return 3
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env["PATH"] = f"{Path(args.uv).parent}{os.pathsep}{env.get('PATH', '')}"
    work = Path(tempfile.mkdtemp(prefix="envlock-bench-restore-"))
    try:
        target, make_restore, plain, make_uv = prepare(args.uv, env, work)
        restore = timed(make_restore, target, args.runs, env)
        uv = timed(make_uv, plain, args.runs, env)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(
        f"packages: {len(PACKAGES)}  runs: {args.runs} (median, warm uv cache)  "
        f"cpus: {os.cpu_count()}"
    )
    print(f"envlock restore --venv (install + verify)  {restore:7.3f} s")
    print(f"uv venv + uv pip sync                      {uv:7.3f} s")
    print(f"  ratio {restore / uv:.3f}  (goal <= 1.200)")
    return 0


def prepare(
    uv: str, env: dict[str, str], work: Path
) -> tuple[Path, list[list[str]], Path, list[list[str]]]:
    """Lock (with --hashes) and export a venv of PACKAGES made in `work`; return the
    restore's target and commands, and the plain uv venv's (benchmarks/run_all.py too)."""
    src = work / "src"
    subprocess.run([sys.executable, "-m", "venv", str(src)], check=True)
    subprocess.run(
        [str(src / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps", *PACKAGES],
        check=True,
        env=env,
    )
    lock, req = work / "envlock.lock.toml", work / "requirements.txt"
    envlock = [sys.executable, "-m", "envlock"]
    subprocess.run(
        [
            *envlock,
            "lock",
            "--python",
            str(src / "bin" / "python"),
            "--hashes",
            "--no-torch-live",
            "-o",
            str(lock),
        ],
        check=True,
        env=env,
        capture_output=True,
    )
    subprocess.run(
        [*envlock, "export", str(lock), "-o", str(req)],
        check=True,
        env=env,
        capture_output=True,
    )
    target, plain = work / "restored", work / "plain"
    make_restore = [[*envlock, "restore", str(lock), "--venv", str(target), "--installer", "uv"]]
    make_uv = [
        [uv, "venv", "--quiet", "--python", sys.executable, str(plain)],
        [uv, "pip", "sync", "--python", str(plain / "bin" / "python"), str(req)],
    ]
    return target, make_restore, plain, make_uv


def torch_cpu(runs: int) -> int:
    src = VENVS / "torch-cpu" / "bin" / "python"
    env = dict(os.environ, PYTHONPATH=str(REPO), PIP_DISABLE_PIP_VERSION_CHECK="1")
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if not (Path(p) / "uv").exists()
    )
    work = Path(tempfile.mkdtemp(prefix="envlock-bench-restore-torch-"))
    try:
        lock, req = work / "envlock.lock.toml", work / "requirements.txt"
        envlock = [sys.executable, "-m", "envlock"]
        subprocess.run(
            [*envlock, "lock", "--python", str(src), "-o", str(lock)],
            check=True,
            env=env,
            capture_output=True,
        )
        subprocess.run(
            [*envlock, "export", str(lock), "--torch-index", "none", "-o", str(req)],
            check=True,
            env=env,
            capture_output=True,
        )
        target, plain = work / "restored", work / "plain"
        make_restore = [
            [
                *envlock,
                "restore",
                str(lock),
                "--venv",
                str(target),
                "--installer",
                "pip",
                "--torch-index",
                "none",
            ]
        ]
        make_pip = [
            [sys.executable, "-m", "venv", str(plain)],
            [str(plain / "bin" / "python"), "-m", "pip", "install", "--no-deps", "-r", str(req)],
        ]
        # alternated, one run of each at a time: a shared machine's load drifts over
        # minutes, and both sides should see the same drift (wheels are local: no warm-up)
        r_samples, p_samples = [], []
        for _ in range(runs):
            r_samples.append(timed(make_restore, target, 1, env, warm=False))
            p_samples.append(timed(make_pip, plain, 1, env, warm=False))
        restore, pip = statistics.median(r_samples), statistics.median(p_samples)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"torch-cpu venv, pip  runs: {runs} each, alternated (median)  cpus: {os.cpu_count()}")
    print(
        f"  restore samples {' '.join(f'{x:.1f}' for x in r_samples)}  "
        f"pip samples {' '.join(f'{x:.1f}' for x in p_samples)}"
    )
    print(f"envlock restore --venv (install + verify)  {restore:7.3f} s")
    print(f"python -m venv + pip install --no-deps -r  {pip:7.3f} s")
    print(f"  ratio {restore / pip:.3f}  (goal <= 1.200)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
