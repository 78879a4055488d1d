"""Huge but valid inputs stay fast and bounded (issue 11): time and peak memory of the CLI on

  a lock of 230,000 packages (~5 MB) verified against facts that have none of them, and
  a facts file with 1,000,000 GPUs through the doctor,

in text, json and junit. Prints seconds, peak RSS and output size per case.

    python benchmarks/large_inputs.py [--packages 230000] [--gpus 1000000]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIXTURE = REPO / "tests" / "fixtures" / "facts.cuda-venv+h100-driver-580-replayed.json"


def run(
    args: list[str], env: dict[str, str], ok: tuple[int, ...] = (0, 1)
) -> tuple[int, float, int, int]:
    """(exit code, seconds, peak RSS of the child in MiB, stdout bytes)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.run(
            [sys.executable, "-m", "envlock", *args], stdout=out, stderr=subprocess.PIPE, env=env
        )
        size = out.tell()
    dt = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if proc.returncode not in ok:
        sys.exit(f"envlock {' '.join(args)} failed ({proc.returncode}): {proc.stderr[-400:]!r}")
    return proc.returncode, dt, max(peak, before) // 1024, size


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--packages", type=int, default=230_000)
    ap.add_argument("--gpus", type=int, default=1_000_000)
    a = ap.parse_args()
    env = dict(os.environ, PYTHONPATH=str(REPO), ENVLOCK_MAX_FILE_MB="1024")
    base = json.loads(FIXTURE.read_text())
    tmp = Path(tempfile.mkdtemp(prefix="envlock-large-"))

    many = copy.deepcopy(base)
    many["packages"]["distributions"] = {f"pkg-{i:06d}": f"1.{i}.0" for i in range(a.packages)}
    (tmp / "many.json").write_text(json.dumps(many))
    (tmp / "base.json").write_text(json.dumps(base))
    lock = tmp / "many.lock.toml"
    code, dt, rss, _ = run(["lock", "--facts", str(tmp / "many.json"), "-o", str(lock)], env)
    print(
        f"lock of {a.packages} packages: {lock.stat().st_size / 1e6:.1f} MB in {dt:.1f} s, "
        f"peak {rss} MiB"
    )
    for fmt in ("text", "json", "junit", "github"):
        code, dt, rss, size = run(
            ["verify", str(lock), "--facts", str(tmp / "base.json"), "--format", fmt], env
        )
        print(
            f"  verify --format {fmt:6}  exit {code}  {dt:6.1f} s  peak {rss:5d} MiB  "
            f"output {size / 1e6:7.2f} MB"
        )

    gpus = copy.deepcopy(base)
    g0 = base["driver"]["gpus"][0]
    gpus["driver"]["gpus"] = [dict(g0, index=i, uuid=f"GPU-{i:08d}") for i in range(a.gpus)]
    (tmp / "gpus.json").write_text(json.dumps(gpus))
    print(f"facts with {a.gpus} GPUs: {(tmp / 'gpus.json').stat().st_size / 1e6:.0f} MB")
    for fmt in ("text", "json", "junit"):
        code, dt, rss, size = run(
            ["doctor", "--facts", str(tmp / "gpus.json"), "--format", fmt], env, ok=(0, 1, 3)
        )
        print(
            f"  doctor --format {fmt:6}  exit {code}  {dt:6.1f} s  peak {rss:5d} MiB  "
            f"output {size / 1e6:7.2f} MB"
        )


if __name__ == "__main__":
    main()
