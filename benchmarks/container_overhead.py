"""Overhead of `envlock probe --image IMG --json` over a bare `docker run`.

Both run in one process, interleaved, N times each; prints the medians of wall and CPU
seconds (user + system of the command's own process and its children: envlock's, or the
docker CLI's, never the daemon's; on a loaded machine the steadier measure) and the wall
ratio (target: <= 1.2x, issue 23). --baseline DIR times another checkout's envlock in the
same rounds. --timeline instead prints when each step of envlock's run happens (ms
since its process started, medians of N runs: its first request, each request sent and
answered, inside the container python3's start, the preload's end, the package in, the
probe imported, then the probe's output ended, the exit), beside the bare `docker run`.
Needs the engine and images from .ci/provision-docker.sh and .ci/build-test-images.sh.

    python benchmarks/container_overhead.py [--image IMG] [-n N] [--baseline DIR] [--timeline [--python PY]]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def timed(cmd: list[str], env: dict[str, str], cwd: Path | None = None) -> tuple[float, float]:
    """(wall, CPU) seconds of one run of `cmd` (in `cwd`: `python -m` imports from there
    first)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=cwd, check=False
    )
    elapsed = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd[:6])}... failed: {proc.stderr.decode().strip()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def pair(image: str, python: str = sys.executable) -> tuple[list[str], list[str]]:
    """(the bare `docker run`, `envlock probe --image`): the pair this script and
    benchmarks/run_all.py compare. The bare side is issue 23's `docker run IMAGE python3 -c
    pass`, with --rm (envlock removes its container too) and the daemon's default network:
    envlock's container has none (NetworkMode "none" and NetworkDisabled: an empty network
    namespace of the runtime's), which on the CI's daemon (dockerd --bridge=none) starts
    as fast as the default, where `--network none`'s sandbox took ~110 ms more (measured
    at 296 ms against 186 ms, 15 rounds): that flag on the bare side only would flatter
    envlock."""
    bare = ["docker", "run", "--rm", image, "python3", "-c", "pass"]
    return bare, [python, "-m", "envlock", "probe", "--image", image, "--json"]


# Runs envlock's CLI with its local transport's requests and the attach stream stamped
# on stderr (ms since T0, the parent's clock at the process's start).
_STAMPS = r"""
import os, sys, time, runpy
T0 = float(os.environ["ENVLOCK_BENCH_T0"])
def stamp(what):
    sys.stderr.write("@@ %.1f %s\n" % ((time.time() - T0) * 1000, what))
stamp("python started")
from envlock.container import unix
send, exchange = unix._UnixHTTP._send, unix._Attached._exchange
def _send(self, request, timeout, max_body):
    method, target = request.split(b"\r\n", 1)[0].decode().split(" ")[:2]
    # the endpoint's last word, a container's id left out: "POST create", "DELETE containers"
    words = [w for w in target.split("?")[0].split("/") if w and len(w) != 64]
    what = method + " " + words[-1]
    stamp("sent " + what)
    status = send(self, request, timeout, max_body)
    stamp("answered " + what)
    return status
def _exchange(self, stdin, timeout):
    stamp("probe output read from")
    out = exchange(self, stdin, timeout)
    stamp("probe output ended")
    return out
unix._UnixHTTP._send, unix._Attached._exchange = _send, _exchange
# the probe's own steps inside the container, stamped on its stderr by the same clock
from envlock.container import image
from envlock.probe import _served
def _mark(what):
    return "__import__('sys').stderr.write('@@ %%f %s\\n' %% __import__('time').time())\n" % what
_served.STDIN_BOOTSTRAP = (
    _mark("container: python3 started")
    + _served.STDIN_BOOTSTRAP.replace("finally:\n    done", "    " + _mark("container: preloaded") + "finally:\n    done")
    .replace("FILES = marshal.loads(got[1]", _mark("container: package in") + "FILES = marshal.loads(got[1]")
    .replace("sys.exit(getattr(import_module(module), function)",
             "entry = import_module(module)\n" + _mark("container: probe imported")
             + "import os\n_exit = os._exit\n"
             + "def _stamped_exit(status):\n    " + _mark("container: probe exits").rstrip()
             + "\n    _exit(status)\n"
             + "os._exit = _stamped_exit\n"
             + "sys.exit(getattr(entry, function)")
)
demux = image.demux
def _demux(raw):
    for stream, data in demux(raw):
        for line in data.decode("utf-8", "replace").splitlines() if stream == 2 else ():
            if line.startswith("@@ "):
                at, what = line[3:].split(" ", 1)
                sys.stderr.write("@@ %.1f %s\n" % ((float(at) - T0) * 1000, what))
        yield stream, data
image.demux = _demux
sys.argv = ["envlock", *sys.argv[1:]]
import atexit
atexit.register(stamp, "envlock exits")  # its exit runs atexit, then os._exit
stamp("envlock starts")
runpy.run_module("envlock", run_name="__main__", alter_sys=True)
"""


# Under an installed envlock (--python): what pip's console script imports first.
_INSTALLED = "import re\n"


def timeline(
    image: str, runs: int, env: dict[str, str], cwd: Path, python: str = sys.executable
) -> None:
    """Median ms of each step of `envlock probe --image IMAGE --json` (see _STAMPS), run
    by `python`."""
    bare, envlock = pair(image)
    stamps = _STAMPS if python == sys.executable else _INSTALLED + _STAMPS
    steps: dict[str, list[float]] = {}
    walls: dict[str, list[float]] = {"bare docker run": [], "envlock": []}
    for _ in range(runs):
        t0 = time.time()
        subprocess.run(bare, capture_output=True, check=True)
        walls["bare docker run"].append((time.time() - t0) * 1000)
        t0 = time.time()
        proc = subprocess.run(
            [python, "-c", stamps, *envlock[3:]],
            env={**env, "ENVLOCK_BENCH_T0": repr(t0)},
            cwd=cwd,
            capture_output=True,
            text=True,
            check=True,
        )
        walls["envlock"].append((time.time() - t0) * 1000)
        for line in proc.stderr.splitlines():
            if line.startswith("@@ "):
                ms, what = line[3:].split(" ", 1)
                steps.setdefault(what, []).append(float(ms))
    for what, at in sorted(steps.items(), key=lambda step: statistics.median(step[1])):
        print(f"{statistics.median(at):8.1f} ms  {what}")
    for what, ms in walls.items():
        print(f"{statistics.median(ms):8.1f} ms  {what} (wall, n={runs})")
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--image", default="envlock-test/python:bookworm")
    ap.add_argument("-n", type=int, default=15, help="runs of each (default 15)")
    ap.add_argument("--baseline", metavar="DIR", help="another checkout, timed in the same rounds")
    ap.add_argument("--timeline", action="store_true", help="when each step happens, not totals")
    ap.add_argument(
        "--python",
        metavar="PY",
        help="--timeline under PY, a venv's python with envlock installed (run outside the "
        "checkout, without PYTHONPATH, `import re` first as pip's console script does)",
    )
    args = ap.parse_args()
    if args.timeline and args.python:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        timeline(args.image, args.n, env, Path(tempfile.gettempdir()), args.python)
        return 0
    if args.timeline:
        timeline(args.image, args.n, {**os.environ, "PYTHONPATH": str(REPO)}, REPO)
        return 0
    bare, envlock = pair(args.image)
    trees = {"": REPO} | ({" (baseline)": Path(args.baseline)} if args.baseline else {})
    variants: dict[str, tuple[list[str], dict[str, str], Path | None]] = {
        "docker run --rm python3 -c pass": (bare, dict(os.environ), None)
    }
    for label, tree in trees.items():
        env = {**os.environ, "PYTHONPATH": str(tree)}
        variants[f"envlock probe --image --json{label}"] = (envlock, env, tree)
        variants[f"... --no-torch-live{label}"] = ([*envlock, "--no-torch-live"], env, tree)
        variants[f"python -m envlock --version{label}"] = (
            [sys.executable, "-m", "envlock", "--version"],
            env,
            tree,
        )
        # Bytecode as `pip install` leaves it (PYTHONDONTWRITEBYTECODE=1 would otherwise
        # make every run recompile envlock from source, which no installed copy does).
        subprocess.run(
            [sys.executable, "-m", "compileall", "-q", str(tree / "envlock")],
            stdout=subprocess.DEVNULL,
            check=True,
        )
    for cmd, env, cwd in variants.values():  # warm the page cache and the daemon
        timed(cmd, env, cwd)
    samples: dict[str, list[tuple[float, float]]] = {k: [] for k in variants}
    for _ in range(args.n):
        for name, (cmd, env, cwd) in variants.items():
            samples[name].append(timed(cmd, env, cwd))
    wall = {k: statistics.median(w for w, _ in v) for k, v in samples.items()}
    for name, runs in samples.items():
        walls = [w for w, _ in runs]
        spread = statistics.quantiles(walls, n=4) if args.n >= 4 else [wall[name]] * 3
        cpu = statistics.median(c for _, c in runs)
        print(
            f"{name:48} median {wall[name] * 1000:7.1f} ms  (IQR {spread[0] * 1000:.0f}-"
            f"{spread[2] * 1000:.0f} ms, n={args.n})  CPU {cpu * 1000:6.1f} ms"
        )
    bare_wall = wall["docker run --rm python3 -c pass"]
    for label in trees:
        ratio = wall[f"envlock probe --image --json{label}"] / bare_wall
        print(f"ratio envlock probe{label} / bare docker run: {ratio:.2f}x (target <= 1.2x)")
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
