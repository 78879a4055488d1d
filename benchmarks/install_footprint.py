"""What a plain install of envlock adds to an environment (issue 22 item 8): the
distributions and megabytes a wheel brings into a fresh venv, and the import time of
`import envlock` and `from envlock import preflight` there (what a training script pays).

    python -m build --outdir dist . && python benchmarks/install_footprint.py dist/*.whl

Timings: the best of N runs of each statement in a fresh interpreter (-X importtime's
cumulative microseconds for the envlock modules, and wall time against `pass`).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

STATEMENTS = ("import envlock", "from envlock import preflight")


def _site_size(env: Path) -> dict[str, int]:
    """Bytes on disk per top-level entry of the venv's site-packages."""
    (site,) = env.glob("lib/python*/site-packages")
    sizes: dict[str, int] = {}
    for entry in site.iterdir():
        files = [entry] if entry.is_file() else [p for p in entry.rglob("*") if p.is_file()]
        sizes[entry.name] = sum(p.stat().st_size for p in files)
    return sizes


def _dists(python: Path) -> dict[str, str]:
    out = subprocess.check_output([str(python), "-m", "pip", "list", "--format=json"], text=True)
    return {d["name"].lower(): d["version"] for d in json.loads(out)}


def _best_ms(python: Path, statement: str, runs: int) -> tuple[float, float]:
    """(best wall ms of the statement minus `pass`, best -X importtime ms of envlock*)."""
    code = "import time; t=time.perf_counter(); {}; print((time.perf_counter()-t)*1e3)"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    walls, imports = [], []
    for _ in range(runs):
        proc = subprocess.run(
            [str(python), "-X", "importtime", "-c", code.format(statement)],
            capture_output=True,
            text=True,
            env=env,
            cwd=tempfile.gettempdir(),
            check=True,
        )
        walls.append(float(proc.stdout))
        self_us = 0
        for line in proc.stderr.splitlines():
            parts = [p.strip() for p in line.removeprefix("import time:").split("|")]
            if len(parts) == 3 and parts[2].startswith("envlock") and parts[0].isdigit():
                self_us += int(parts[0])
        imports.append(self_us / 1000)
    return min(walls), min(imports)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel", type=Path)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = Path(tmp) / "venv"
        venv.EnvBuilder(with_pip=True).create(env)
        python = env / "bin" / "python"
        before_dists, before_size = _dists(python), _site_size(env)
        pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        subprocess.run([*pip, str(args.wheel)], check=True)
        added = {n: v for n, v in _dists(python).items() if n not in before_dists}
        after = _site_size(env)
        grown = {k: v - before_size.get(k, 0) for k, v in after.items()}
        total = sum(grown.values())
        print(f"distributions added: {len(added)}")
        for name, version in sorted(added.items()):
            print(f"  {name} {version}")
        print(f"site-packages grew by {total / 1e6:.1f} MB; the largest entries:")
        for name, size in sorted(grown.items(), key=lambda kv: -kv[1])[:10]:
            print(f"  {size / 1e6:6.2f} MB  {name}")
        for statement in STATEMENTS:
            wall, own = _best_ms(python, statement, args.runs)
            print(
                f"{statement!r}: {wall:.1f} ms wall, envlock modules {own:.1f} ms (best of {args.runs})"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
