"""Every ratio of issue 23's table, measured in one run, and docs/benchmarks.md.

    python benchmarks/run_all.py [--runs 5] [--nodes 10000] [--baseline DIR] [--only NAME,...]
    python benchmarks/run_all.py --smoke      # each benchmark runs once; nothing is timed

Each row is a pair (envlock's command, the tool or step it is held against) or one
command against a time limit. Rounds are interleaved: in each round every row runs its
commands one after the other (with --baseline, the other checkout's envlock too), so a
shared machine's drifting load falls on both sides of a ratio alike; the table gives
medians of --runs rounds. The setups come from the single benchmarks (verify_speed.
warm_lock, restore_speed.prepare, container_overhead.pair, tests/fleet/nodes.write_fleet):
this script only schedules and reports them. Without --smoke it rewrites
docs/benchmarks.md (the table and the machine: CPU model, cores, memory, Python, torch,
Docker). A row whose prerequisite is missing (a venv, uv, the Docker engine or image) is
"unavailable", said with the reason; --smoke exits 1 when any row fails to run or is
unavailable under CI=true.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path[:0] = [str(HERE), str(REPO)]

import container_overhead  # noqa: E402  (benchmarks/ and the checkout are on the path)
import restore_speed  # noqa: E402
import verify_speed  # noqa: E402

from tests.fleet.nodes import three_drifts, write_fleet  # noqa: E402

VENVS = verify_speed.VENVS
CUDA_PY = VENVS / "torch-cuda" / "bin" / "python"
UV = VENVS / "uv-13" / "bin" / "uv"
IMAGE = "envlock-test/python:bookworm"  # .ci/build-test-images.sh
DOC = REPO / "docs" / "benchmarks.md"
TIMEOUT_S = 180.0  # a command past it counts as "> 180 s" and is not run again


class Unavailable(Exception):
    """A row's prerequisite is missing (the message says which)."""


@dataclass
class Cmd:
    """One command of a row; `before` runs untimed before each run (a clean target)."""

    argv: list[str]
    env: dict[str, str]
    ok: tuple[int, ...] = (0,)
    before: Callable[[], None] | None = None
    cwd: str | None = None
    timeout: float = TIMEOUT_S

    def run(self) -> float:
        """Seconds the command took; inf when it ran past its timeout (killed)."""
        if self.before is not None:
            self.before()
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(
                self.argv,
                env=self.env,
                cwd=self.cwd,
                capture_output=True,
                check=False,
                timeout=self.timeout,
            )
        except subprocess.TimeoutExpired:
            return math.inf
        elapsed = time.perf_counter() - t0
        if proc.returncode not in self.ok:
            tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
            raise RuntimeError(
                f"{' '.join(self.argv[:6])} exited {proc.returncode}: {' / '.join(tail)}"
            )
        return elapsed


@dataclass
class Row:
    """What the issue's table says: envlock's command, against `versus` (a ratio) or
    against `limit` seconds when `versus` is None."""

    what: str
    target: str
    limit: float
    envlock: Callable[[str], Cmd]  # the checkout (REPO or --baseline) -> its command
    versus: Cmd | None = None
    samples: dict[str, list[float]] = field(default_factory=dict)
    error: str | None = None


@dataclass
class Ctx:
    work: Path
    nodes: int
    smoke: bool
    installed: bool = False  # envlock's console script from a non-editable install, per tree
    cache: Path = field(init=False)

    def __post_init__(self) -> None:
        self.cache = self.work / "cache"

    def env(self, tree: str | None = None, **extra: str) -> dict[str, str]:
        env = dict(os.environ, ENVLOCK_CACHE_DIR=str(self.cache), **extra)
        if tree is not None:
            env["PYTHONPATH"] = tree
        return env


def _installed(ctx: Ctx, tree: str) -> Path:
    """A venv holding `pip install TREE` (not editable, its dependencies from the index),
    built once per tree and run: envlock as a user's install runs it, without this
    checkout's editable finder or any .pth of the machine's own Python."""
    venv = ctx.work / f"venv-{abs(hash(tree)):x}"
    if not (venv / "bin" / "envlock").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
        subprocess.run([*pip, "--disable-pip-version-check", tree], check=True)
    return venv / "bin" / "envlock"


def _as_run(ctx: Ctx, tree: str, argv: list[str], env: dict[str, str]) -> Cmd:
    """`python -m envlock ARGS` from TREE, or with --installed the installed `envlock ARGS`
    (no PYTHONPATH, run outside the tree so nothing is imported from it)."""
    if ctx.installed and argv[:3] == [sys.executable, "-m", "envlock"]:
        env = {k: v for k, v in env.items() if k != "PYTHONPATH"}
        return Cmd([str(_installed(ctx, tree)), *argv[3:]], env, cwd=str(ctx.work))
    return Cmd(argv, {**env, "PYTHONPATH": tree}, cwd=tree)


def _need(path: Path, what: str) -> str:
    if not os.access(path, os.X_OK):
        raise Unavailable(f"no {what} at {path}")
    return str(path)


def _envlock(py: str, ctx: Ctx, *args: str, ok: tuple[int, ...] = (0, 1)) -> Callable[[str], Cmd]:
    # -m runs from the working directory first: each checkout runs from its own tree
    def make(tree: str) -> Cmd:
        cmd = _as_run(ctx, tree, [py, "-m", "envlock", *args], ctx.env())
        cmd.ok = ok
        return cmd

    return make


def verify_warm(ctx: Ctx) -> Row:
    py = _need(CUDA_PY, "CUDA torch venv")
    lock = verify_speed.warm_lock(py, ctx.env(str(REPO)), ctx.work)
    return Row(
        '`envlock verify LOCK` warm / `python -c "import torch"` (CUDA venv)',
        "<= 0.05",
        0.05,
        _envlock(py, ctx, "verify", str(lock)),
        Cmd([py, "-c", "import torch"], ctx.env()),
    )


def doctor_second(ctx: Ctx) -> Row:
    py = _need(CUDA_PY, "CUDA torch venv")
    subprocess.run([py, "-m", "envlock", "doctor"], env=ctx.env(str(REPO)), capture_output=True)
    return Row(
        '`envlock doctor`, second run / `python -c "import torch"` (CUDA venv)',
        "<= 0.10",
        0.10,
        _envlock(py, ctx, "doctor"),
        Cmd([py, "-c", "import torch"], ctx.env()),
    )


def probe_static(ctx: Ctx) -> Row:
    py = _need(CUDA_PY, "CUDA torch venv")
    return Row(
        "`envlock probe --no-torch-live` / `python -m torch.utils.collect_env`",
        "<= 0.05",
        0.05,
        _envlock(py, ctx, "probe", "--no-torch-live", ok=(0,)),
        Cmd([py, "-m", "torch.utils.collect_env"], ctx.env()),
    )


def explain_137(ctx: Ctx) -> Row:
    py = _need(CUDA_PY, "CUDA torch venv")
    return Row(
        "`envlock explain 137` (CUDA venv), seconds",
        "< 0.3 s",
        0.3,
        _envlock(py, ctx, "explain", "137", ok=(0,)),
    )


def restore_venv(ctx: Ctx) -> Row:
    uv = _need(UV, "uv")
    env = ctx.env(str(REPO), PATH=f"{UV.parent}{os.pathsep}{os.environ.get('PATH', '')}")
    target, make_restore, plain, make_uv = restore_speed.prepare(uv, env, ctx.work / "restore")
    ((restore,), (uv_venv, uv_sync)) = make_restore, make_uv

    def clean(path: Path) -> Callable[[], None]:
        return lambda: shutil.rmtree(path, ignore_errors=True)

    # the issue's `uv venv && uv pip sync`, as a shell runs it: /bin/sh (dash here, ~1 ms)
    # pays no Python start, which a Python loop over the two commands would add to this
    # side only
    both = ["/bin/sh", "-c", _sequence(uv_venv, uv_sync)]
    for cmd in (make_restore[0], both):  # warm uv's cache for both sides
        clean(target)(), clean(plain)()
        subprocess.run(cmd, env=env, capture_output=True, check=False)
    return Row(
        "`restore --venv` / `uv venv && uv pip sync` (6 small packages)",
        "<= 1.2x",
        1.2,
        lambda tree: _with_before(_as_run(ctx, tree, restore, env), clean(target)),
        Cmd(both, {k: v for k, v in env.items() if k != "PYTHONPATH"}, before=clean(plain)),
    )


def _with_before(cmd: Cmd, before: Callable[[], None]) -> Cmd:
    cmd.before = before
    return cmd


def _sequence(*cmds: list[str]) -> str:
    """`A && B`, each word shell-quoted (output captured, as envlock's side's is)."""
    return " && ".join(shlex.join(cmd) for cmd in cmds)


def probe_image(ctx: Ctx) -> Row:
    if shutil.which("docker") is None:
        raise Unavailable("no docker CLI")
    check = subprocess.run(
        ["docker", "image", "inspect", IMAGE], capture_output=True, check=False, timeout=60
    )
    if check.returncode != 0:
        raise Unavailable(f"no image {IMAGE} (.ci/build-test-images.sh builds it)")
    bare, envlock = container_overhead.pair(IMAGE)
    for cmd in (bare, envlock):  # the daemon and the page cache warm
        subprocess.run(cmd, env=ctx.env(str(REPO)), capture_output=True, check=False)
    return Row(
        "`probe --image` / bare `docker run IMAGE python3 -c pass` (Debian test image)",
        "<= 1.2x",
        1.2,
        lambda tree: _as_run(ctx, tree, envlock, ctx.env()),
        Cmd(bare, ctx.env()),
    )


def _fleet(ctx: Ctx, name: str, drift: Mapping[int, Sequence[tuple[str, object]]]) -> Path:
    directory = ctx.work / name
    if not directory.exists():
        write_fleet(directory, ctx.nodes, drift, indent=None)
    return directory


_JSON_LOAD = (
    "import json, os, sys\n"
    "d = sys.argv[1]\n"
    "for n in os.listdir(d):\n"
    "    with open(os.path.join(d, n), 'rb') as f:\n"
    "        json.load(f)\n"
)


def fleet_kinds(ctx: Ctx) -> Row:
    d = _fleet(ctx, "fleet-kinds", three_drifts(ctx.nodes))
    return Row(
        f"`fleet report` of {ctx.nodes:,} facts files, a few kinds / bare `json.load` of them",
        "<= 1.5x",
        1.5,
        _envlock(sys.executable, ctx, "fleet", "report", str(d)),
        Cmd([sys.executable, "-c", _JSON_LOAD, str(d)], ctx.env()),
    )


def fleet_unique(ctx: Ctx) -> Row:
    drift = {i: [(f"packages.distributions.only-on-{i}", "1.0")] for i in range(ctx.nodes)}
    d = _fleet(ctx, "fleet-unique", drift)
    return Row(
        f"`fleet report`, {ctx.nodes:,} nodes each with a package no other has, seconds",
        "<= 5 s",
        5.0,
        _envlock(sys.executable, ctx, "fleet", "report", str(d)),
    )


def fleet_values(ctx: Ctx) -> Row:
    drift = {i: [("packages.distributions.numpy", f"2.{i}.0")] for i in range(ctx.nodes)}
    d = _fleet(ctx, "fleet-values", drift)
    return Row(
        f"`fleet report`, {ctx.nodes:,} nodes, another numpy version on each, seconds",
        "<= 3 s",
        3.0,
        _envlock(sys.executable, ctx, "fleet", "report", str(d)),
    )


ROWS: dict[str, Callable[[Ctx], Row]] = {
    "verify": verify_warm,
    "doctor": doctor_second,
    "probe": probe_static,
    "explain": explain_137,
    "restore": restore_venv,
    "image": probe_image,
    "fleet-kinds": fleet_kinds,
    "fleet-unique": fleet_unique,
    "fleet-values": fleet_values,
}


def measure(rows: list[Row], trees: dict[str, str], runs: int) -> None:
    """`runs` rounds; in each, every row runs each checkout's command and its baseline."""
    for round_ in range(runs):
        compile_trees(trees)
        for row in rows:
            if row.error is not None:
                continue
            print(f"[round {round_ + 1}/{runs}] {row.what}", file=sys.stderr, flush=True)
            try:
                for label, tree in trees.items():
                    _sample(row, label, row.envlock(tree).run)
                if row.versus is not None:
                    _sample(row, "versus", row.versus.run)
            except (RuntimeError, OSError) as exc:
                row.error = str(exc)


def compile_trees(trees: dict[str, str]) -> None:
    """Bytecode for each checkout's envlock, as an install leaves it: under
    PYTHONDONTWRITEBYTECODE=1 (CI, this machine's shells) a module edited since its .pyc
    would otherwise be compiled from source in every run of one side only. Each round:
    files edited meanwhile are compiled again."""
    for tree in trees.values():
        subprocess.run(
            [sys.executable, "-m", "compileall", "-q", str(Path(tree) / "envlock")],
            stdout=subprocess.DEVNULL,
            check=False,
        )


def _sample(row: Row, label: str, run: Callable[[], float]) -> None:
    """One more sample; a command that timed out once is not run again (inf stands)."""
    samples = row.samples.setdefault(label, [])
    samples.append(math.inf if math.inf in samples else run())


def _value(row: Row, label: str) -> float:
    value = statistics.median(row.samples[label])
    return value / statistics.median(row.samples["versus"]) if row.versus else value


def table(rows: list[Row], trees: dict[str, str]) -> list[str]:
    heads = [f"{label}" for label in trees]
    lines = [
        "| what | " + " | ".join(heads) + " | target | met | medians (s) |",
        "|---|" + "---|" * len(heads) + "---|---|---|",
    ]
    for row in rows:
        if row.error is not None:
            lines.append(f"| {row.what} | {row.error} |" + " |" * (len(heads) + 2))
            continue
        values = [_value(row, label) for label in trees]
        shown = [_shown(v, ratio=row.versus is not None) for v in values]
        medians = ", ".join(
            f"{label} {statistics.median(s):.3f}" for label, s in row.samples.items()
        ).replace("inf", "stopped")
        met = "yes" if values[-1] <= row.limit else "no"
        lines.append(
            f"| {row.what} | " + " | ".join(shown) + f" | {row.target} | {met} | {medians} |"
        )
    return lines


def _shown(value: float, *, ratio: bool) -> str:
    if math.isinf(value):
        return f"> {TIMEOUT_S:.0f} s (stopped)"
    return f"{value:.3f}" if ratio else f"{value:.2f} s"


def machine() -> list[str]:
    """What the numbers were measured on."""
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in _read("/proc/cpuinfo").splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown",
    )
    mem = next(
        (
            f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
            for line in _read("/proc/meminfo").splitlines()
            if line.startswith("MemTotal:")
        ),
        "unknown",
    )
    return [
        f"- CPU: {cpu}, {os.cpu_count()} logical cores; memory {mem}",
        f"- OS: {platform.platform()}",
        f"- Python (envlock): {platform.python_version()} ({sys.executable})",
        f"- torch (CUDA venv): {_torch_version(CUDA_PY)}",
        f"- Docker: {_docker_version()}",
        f"- load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}",
    ]


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def _torch_version(py: Path) -> str:
    script = "import importlib.metadata as m; print(m.version('torch'))"
    try:
        out = subprocess.run([str(py), "-c", script], capture_output=True, text=True, timeout=60)
    except OSError:
        return "unavailable"
    return out.stdout.strip() or "unavailable"


def _docker_version() -> str:
    try:
        out = subprocess.run(
            ["docker", "version", "--format", "{{.Server.Version}}"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    except OSError:
        return "unavailable"
    return out.stdout.strip() or "unavailable"


def smoke(rows: list[Row], trees: dict[str, str]) -> int:
    """Each row once: it runs (exit code as expected) or says why not. Nothing timed."""
    measure(rows, trees, 1)
    strict = os.environ.get("CI", "").lower() == "true"
    bad = 0
    for row in rows:
        ok = row.error is None
        unavailable = not ok and row.error is not None and row.error.startswith("unavailable")
        bad += not ok and (strict or not unavailable)
        print(f"{'ok' if ok else 'FAILED'}  {row.what}{'' if ok else ': ' + str(row.error)}")
    return 1 if bad else 0


def write_doc(lines: list[str], args: argparse.Namespace) -> None:
    commit = (
        subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        or f"(not a git checkout: {REPO})"
    )  # a `git archive`: say so, not ''
    text = [
        "# Benchmarks",
        "",
        "Issue 23's table, written by `python benchmarks/run_all.py` (rows interleaved,",
        f"medians of {args.runs} rounds; ratios are envlock / the tool beside it, lower",
        "is better). Timings on a shared machine are noisy: compare ratios measured in",
        "the same run.",
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} at commit {commit}"
        + (f", against {args.baseline} (the first column)" if args.baseline else "")
        + "."
        + (
            " The rows envlock runs under its own interpreter (restore, image, fleet) ran"
            " the `envlock` console script of a non-editable `pip install` of each checkout"
            " in a fresh venv (`--installed`), as a user's install runs it."
            if args.installed
            else ""
        ),
        "",
        *lines,
        "",
        "## The machine",
        "",
        *machine(),
        "",
    ]
    DOC.write_text("\n".join(text))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--nodes", type=int, default=10_000, help="fleet size (default 10,000)")
    ap.add_argument("--baseline", help="another checkout, measured in the same rounds")
    ap.add_argument("--only", help=f"comma-separated rows: {', '.join(ROWS)}")
    ap.add_argument("--smoke", action="store_true", help="each row once, tiny fleets, no timing")
    ap.add_argument("--no-doc", action="store_true", help="do not rewrite docs/benchmarks.md")
    ap.add_argument(
        "--installed",
        action="store_true",
        help="run the rows of envlock's own interpreter (restore, image, fleet) from a "
        "non-editable `pip install` of each checkout in a fresh venv, as a user runs it "
        "(the CUDA venv's rows keep `python -m envlock` from the checkout)",
    )
    args = ap.parse_args()
    names = args.only.split(",") if args.only else list(ROWS)
    unknown = [n for n in names if n not in ROWS]
    if unknown:
        ap.error(f"unknown rows: {', '.join(unknown)} (choose from {', '.join(ROWS)})")
    trees = {"new": str(REPO)}
    if args.baseline:
        trees = {"baseline": str(Path(args.baseline).resolve()), **trees}
    with tempfile.TemporaryDirectory(prefix="envlock-run-all-") as tmp:
        ctx = Ctx(Path(tmp), 20 if args.smoke else args.nodes, args.smoke, args.installed)
        rows = [_row(ROWS[n], ctx) for n in names]
        if args.smoke:
            return smoke(rows, trees)
        measure(rows, trees, args.runs)
    lines = table(rows, trees)
    print("\n".join(lines))
    if not args.no_doc:
        write_doc(lines, args)
    return 0


def _row(make: Callable[[Ctx], Row], ctx: Ctx) -> Row:
    try:
        return make(ctx)
    except Unavailable as exc:
        error = f"unavailable: {exc}"
    except (OSError, subprocess.CalledProcessError) as exc:
        error = f"setup failed: {exc}"
    return Row(make.__name__.replace("_", " "), "", 0.0, lambda tree: Cmd([], {}), error=error)


if __name__ == "__main__":
    raise SystemExit(main())
