"""Shared test fixtures.

The torch virtualenvs and the Docker engine are provisioned by .ci/run.
Outside CI a test that needs a missing one is skipped; under CI=true it fails,
because a skipped integration test there would hide a broken provisioning step.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import warnings
from collections.abc import Sequence
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
VENV_ROOT = Path(os.environ.get("ENVLOCK_TEST_VENVS", Path.home() / ".cache/envlock-test/venvs"))
IN_CI = os.environ.get("CI", "").lower() == "true"
# The suite's depth (issue 22 item 11). Full under CI=true or ENVLOCK_TEST_FULL=1: every
# test, fuzz at CI's example count. A local run leaves out the tests marked `slow` (minutes
# of real installs, determinism suites, torchrun launches and image builds on 2 cores),
# fuzzes at a small example count (tests/fuzz/test_fuzz.py) and says so at the end.
FULL = IN_CI or os.environ.get("ENVLOCK_TEST_FULL") == "1"
FULL_COMMAND = "ENVLOCK_TEST_FULL=1 python -m pytest"
# hypothesis cases per fuzz test (tests/fuzz/test_fuzz.py's EXAMPLES): FUZZ_EXAMPLES when
# set, else 1,500 at the full depth (over 10,000 a run) and LOCAL_EXAMPLES locally
LOCAL_EXAMPLES = 100
FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES") or (1500 if FULL else LOCAL_EXAMPLES))
# `envlock matrix` confirms its wheel on download.pytorch.org; the suite reaches no index
# but its own fakes: a closed loopback port, so the check is the offline note at once
os.environ.setdefault("ENVLOCK_TORCH_INDEX", "http://127.0.0.1:9/whl/")


def need(condition: bool, why: str) -> None:
    """Skip locally, fail under CI, when an integration prerequisite is missing."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI=true but {why} (.ci/run should have provisioned it)")
    pytest.skip(why)


def _venv_python(name: str) -> Path:
    py = VENV_ROOT / name / "bin" / "python"
    need(py.exists(), f"test virtualenv {py.parent.parent} is missing")
    return py


@pytest.fixture(scope="session")
def cpu_python() -> Path:
    """Python of the venv with torch==2.13.0 (CPU build)."""
    return _venv_python("torch-cpu")


@pytest.fixture(scope="session")
def cuda_python() -> Path:
    """Python of the venv with torch==2.14.1 (CUDA 13.0 build; no driver here)."""
    return _venv_python("torch-cuda")


def clean_env(**extra: str) -> dict[str, str]:
    """The environment for a child envlock: this checkout first on the path (then what
    PYTHONPATH held: the GPU kit puts the dependencies it installs offline there)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_"))}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)
    env.update(extra)
    return env


# Commands whose process is part of what they do: `run` replaces itself with the command
# (os.execvp), `restore` starts installers whose output a later change may pass through.
NEEDS_A_PROCESS = ("run", "restore")
# ENVLOCK_TEST_SUBPROCESS=1: every call in a subprocess, as before (to compare, or to tell
# whether a failure comes from running in-process)
ALWAYS_A_PROCESS = os.environ.get("ENVLOCK_TEST_SUBPROCESS") == "1"


def run_envlock(
    args: Sequence[str],
    *,
    python: Path | str = sys.executable,
    env: dict[str, str] | None = None,
    cwd: Path | str | None = None,
    timeout: float = 300,
    process: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run the real CLI (`python -m envlock ARGS`): in this process, through cli.main with
    the environment, working directory and output streams it would have had (start-up
    and imports are then paid once per test session, not per call); in a subprocess when
    the process boundary is what a test looks at (`process=True`: exit statuses from
    signals, pipes, what a fresh interpreter imports), for another interpreter, and for
    the commands in NEEDS_A_PROCESS."""
    env = env if env is not None else clean_env()
    if (
        process
        or ALWAYS_A_PROCESS
        or str(python) != sys.executable
        or (args and args[0] in NEEDS_A_PROCESS)
    ):
        return subprocess.run(
            [str(python), "-m", "envlock", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=cwd,
            timeout=timeout,
            check=False,
        )
    return _in_process(list(args), env, cwd)


def _in_process(
    args: list[str], env: dict[str, str], cwd: Path | str | None
) -> subprocess.CompletedProcess[str]:
    from envlock.cli import main

    out, err = io.StringIO(), io.StringIO()
    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    os.environ.clear()
    os.environ.update(env)
    try:
        if cwd is not None:
            os.chdir(cwd)
        # a subprocess would not turn envlock's warnings into errors as this suite does
        with warnings.catch_warnings(), redirect_stdout(out), redirect_stderr(err):
            warnings.simplefilter("ignore")
            try:
                code = main(args)
            except SystemExit as exc:  # what `python -m envlock` would exit with
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
    return subprocess.CompletedProcess(
        [sys.executable, "-m", "envlock", *args], code, out.getvalue(), err.getvalue()
    )


def load_fixture_json(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


# ------------------------------------------------------------------------------------------
# The local depth: `slow` tests deselected unless the run is full, `-m` chooses by markers,
# or the arguments name the test's file (`pytest tests/x/test_y.py[::test]` runs it).

_DESELECTED = pytest.StashKey[int]()
LOCAL_WORKERS = 2


@pytest.hookimpl(tryfirst=True)  # before xdist's own, which turns -n into workers
def pytest_cmdline_main(config: pytest.Config) -> None:
    """The whole suite (`pytest` with no path, locally and in CI) on two xdist workers:
    on two cores a process-bound test waits while the other worker computes (CI's serial
    run grew past 25 minutes). Not where the run asks for a worker count (`-n 0`:
    serial), a debugger, uncaptured output or only collection."""
    opt = config.option
    if (
        hasattr(config, "workerinput")  # an xdist worker
        or not config.pluginmanager.has_plugin("xdist")
        or config.args_source is not pytest.Config.ArgsSource.TESTPATHS
        or opt.numprocesses is not None
        or opt.usepdb
        or opt.collectonly
        or opt.capture == "no"
    ):
        return
    opt.numprocesses = LOCAL_WORKERS
    if opt.dist == "no":  # a module's tests on one worker: its module fixtures run once
        opt.dist = "loadscope"


def _named_files(config: pytest.Config) -> set[Path]:
    here = config.invocation_params.dir
    paths = ((here / arg.split("::")[0]).resolve() for arg in config.args)
    return {path for path in paths if path.is_file()}


@pytest.hookimpl(trylast=True)  # after -k: the count is of tests that would have run
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if FULL or config.option.markexpr:
        return
    named = _named_files(config)
    slow = [i for i in items if i.get_closest_marker("slow") and i.path not in named]
    if not slow:
        return
    config.hook.pytest_deselected(items=slow)
    left_out = set(map(id, slow))
    items[:] = [i for i in items if id(i) not in left_out]
    config.stash[_DESELECTED] = len(slow)
    if hasattr(config, "workeroutput"):  # an xdist worker: the controller writes the summary
        config.workeroutput["envlock_slow_deselected"] = len(slow)


# A worker's environment has COLUMNS=80 and LINES=24 that the run's did not: envlock's
# tables would be cut to 80 columns in the workers only. Each worker gets the run's own.
_TERMINAL_SIZE = ("COLUMNS", "LINES")


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    node.workerinput["envlock_terminal_size"] = {k: os.environ.get(k) for k in _TERMINAL_SIZE}


def pytest_configure(config: pytest.Config) -> None:
    size = getattr(config, "workerinput", {}).get("envlock_terminal_size", {})
    for name, value in size.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """xdist's controller collects nothing itself: its count is the workers'."""
    count = getattr(node, "workeroutput", {}).get("envlock_slow_deselected", 0)
    node.config.stash[_DESELECTED] = max(count, node.config.stash.get(_DESELECTED, 0))


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if FULL:
        return
    count = config.stash.get(_DESELECTED, 0)
    slow = f"{count} slow test{'s' if count != 1 else ''} deselected, " if count else ""
    terminalreporter.write_line(
        f"envlock: a local run ({slow}fuzz at {FUZZ_EXAMPLES} examples); "
        f"the full depth, as CI runs it: {FULL_COMMAND}",
        yellow=bool(count),
    )
