"""`envlock restore --venv` against `uv venv` + `uv pip sync` of the same requirements.

    python benchmarks/restore_speed.py [--uv UV] [--runs N] [--baseline DIR]

A torch-free venv of small PyPI packages (uv cannot see this machine's local torch
wheels) is locked with --hashes; then, after one warm-up each (uv's cache warm for
both), N interleaved rounds (one run of each side per round), medians:
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


def envlock_only(work: Path) -> str:
    """A PYTHONPATH entry holding the checkout's envlock package and nothing else: the
    checkout's own *.egg-info would show up as an installed distribution of every
    interpreter run with the checkout on its path (the probed venv too), and a lock
    --hashes would look it up on the index."""
    path = work / "path"
    path.mkdir(parents=True, exist_ok=True)
    link = path / "envlock"
    if not link.exists():
        link.symlink_to(REPO / "envlock")
    return str(path)


def prepare(
    uv: str, env: dict[str, str], work: Path
) -> tuple[Path, list[list[str]], Path, list[list[str]]]:
    """The locked venv of PACKAGES and both sides' commands: (restore's target, its
    command, the plain venv, `uv venv` and `uv pip sync` of the exported requirements).
    `env` runs envlock (PYTHONPATH names the checkout) with uv on PATH."""
    work.mkdir(parents=True, exist_ok=True)
    src = work / "src"
    subprocess.run([sys.executable, "-m", "venv", str(src)], check=True)
    subprocess.run(
        [str(src / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps", *PACKAGES],
        check=True,
        env=env,
        capture_output=True,
    )
    lock, req = work / "envlock.lock.toml", work / "requirements.txt"
    envlock = [sys.executable, "-m", "envlock"]
    src_py = str(src / "bin" / "python")
    locking = {**env, "PYTHONPATH": envlock_only(work)}
    for cmd in (
        [*envlock, "lock", "--python", src_py, "--hashes", "--no-torch-live", "-o", str(lock)],
        [*envlock, "export", str(lock), "-o", str(req)],
    ):
        proc = subprocess.run(cmd, env=locking, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd[2:4])} failed: {proc.stderr.strip()[-300:]}")
    target, plain = work / "restored", work / "plain"
    restore = [[*envlock, "restore", str(lock), "--venv", str(target), "--installer", "uv"]]
    plain_py = str(plain / "bin" / "python")
    make_uv = [
        [uv, "venv", "--quiet", "--python", sys.executable, str(plain)],
        [uv, "pip", "sync", "--python", plain_py, str(req)],
    ]
    return target, restore, plain, make_uv


def pairs(
    sides: list[tuple[list[list[str]], Path]], runs: int, env: dict[str, str]
) -> list[list[float]]:
    """Each side's samples: one warm-up each (uv's cache), then `runs` rounds in which
    every side runs once, one after the other (a shared machine's drifting load falls on
    all sides alike)."""
    for make, clean in sides:
        timed(make, clean, 1, env, warm=False)
    samples: list[list[float]] = [[] for _ in sides]
    for _ in range(runs):
        for i, (make, clean) in enumerate(sides):
            samples[i].append(timed(make, clean, 1, env, warm=False))
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uv", default=str(VENVS / "uv-13" / "bin" / "uv"))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--torch-cpu", action="store_true", help="the torch-cpu venv, with pip")
    parser.add_argument(
        "--baseline",
        metavar="DIR",
        help="another checkout (e.g. `git worktree add DIR COMMIT`): its restore is timed "
        "in the same rounds",
    )
    args = parser.parse_args()
    if args.torch_cpu:
        return torch_cpu(args.runs)
    if not os.access(args.uv, os.X_OK):
        print(f"no uv at {args.uv}", file=sys.stderr)
        return 3
    work = Path(tempfile.mkdtemp(prefix="envlock-bench-restore-"))
    # `python -m envlock` looks in the working directory first: run where no checkout
    # is, so that PYTHONPATH says which one runs
    os.chdir(work)
    env = dict(os.environ, PYTHONPATH=envlock_only(work))
    env["PATH"] = f"{Path(args.uv).parent}{os.pathsep}{env.get('PATH', '')}"
    try:
        target, restore, plain, make_uv = prepare(args.uv, env, work)
        sides = [(restore, target), (make_uv, plain)]
        if args.baseline:
            base = work / "base-path"
            base.mkdir()
            (base / "envlock").symlink_to(Path(args.baseline).resolve() / "envlock")
            # the same command, run with the other checkout on the path
            base_restore = [["env", f"PYTHONPATH={base}", *restore[0]]]
            sides.append((base_restore, target))
        samples = pairs(sides, args.runs, env)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    medians = [statistics.median(s) for s in samples]
    print(
        f"packages: {len(PACKAGES)}  runs: {args.runs} rounds, interleaved (median, warm uv "
        f"cache)  cpus: {os.cpu_count()}"
    )
    print(f"envlock restore --venv (install + verify)  {medians[0]:7.3f} s")
    print(f"uv venv + uv pip sync                      {medians[1]:7.3f} s")
    print(f"  ratio {medians[0] / medians[1]:.3f}  (goal <= 1.200)")
    if args.baseline:
        print(f"baseline restore ({args.baseline})  {medians[2]:7.3f} s")
        print(f"  ratio {medians[2] / medians[1]:.3f}")
    return 0


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
