"""How contributors run the tests (issue 22 item 11): plain `pytest`, from the checkout or
from anywhere else, collects the suite: the tests import `tests.conftest`, which only
worked under `python -m pytest` because that puts the working directory on sys.path.
The suite's two depths: a local run leaves out the tests marked `slow` and fuzzes at a
small example count, saying so in one line; CI=true or ENVLOCK_TEST_FULL=1 runs it all."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, clean_env

DEPTH = ("CI", "ENVLOCK_TEST_FULL", "FUZZ_EXAMPLES")


def _plain_pytest(
    *args: str, cwd: Path, depth: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`pytest ARGS` as the console script runs it: -P keeps the working directory off
    sys.path, as for /usr/bin/pytest, and nothing of this run's PYTHONPATH is passed on;
    the depth is `depth`'s (a local run when empty), not this run's."""
    env = {k: v for k, v in clean_env().items() if k not in DEPTH}
    env.pop("PYTHONPATH")
    env.update(depth or {})
    return subprocess.run(
        [
            sys.executable,
            "-P",
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            *args,
        ],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_plain_pytest_in_the_checkout_collects_every_test_module() -> None:
    done = _plain_pytest(cwd=REPO, depth={"ENVLOCK_TEST_FULL": "1"})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert " error" not in done.stdout.splitlines()[-1]
    collected = {ln.split("::")[0] for ln in done.stdout.splitlines() if "::" in ln}
    modules = {
        str(p.relative_to(REPO))
        for p in (REPO / "tests").rglob("test_*.py")
        if "__pycache__" not in p.parts
    }
    # every test module holds at least one test that is collected (and none fails to import)
    assert modules <= collected, sorted(modules - collected)[:5]


@pytest.mark.parametrize("where", ["tests", "elsewhere"])
def test_plain_pytest_from_another_directory(where: str, tmp_path: Path) -> None:
    """From tests/ (a contributor in a test directory) or from outside the checkout."""
    target = REPO / "tests" / "commands" / "test_completion.py"
    cwd = REPO / "tests" if where == "tests" else tmp_path
    done = _plain_pytest(os.path.relpath(target, cwd), cwd=cwd)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "test_bash_completes_commands_options_and_values" in done.stdout


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, 100),  # a local run: quick
        ({"CI": "true"}, 1500),  # CI: the full depth
        ({"CI": "true", "FUZZ_EXAMPLES": "7"}, 7),  # asked for: always
        ({"FUZZ_EXAMPLES": "3000"}, 3000),
        ({"ENVLOCK_TEST_FULL": "1"}, 1500),  # the full depth, asked for locally
    ],
)
def test_fuzz_depth_is_full_in_ci_and_quick_locally(env: dict[str, str], expected: int) -> None:
    base = clean_env(**env)
    for name in DEPTH:
        if name not in env:
            base.pop(name, None)
    code = (
        "from tests.fuzz.test_fuzz import EXAMPLES, FUZZ; "
        "print(EXAMPLES, FUZZ.max_examples, FUZZ.derandomize)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env=base,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(expected), str(expected), str(env.get("CI") == "true")]


ZSH = "test_tab_in_a_real_interactive_zsh"  # marked slow: a real interactive zsh
BASH = "test_bash_completes_commands_options_and_values"
LOCAL_LINE = "envlock: a local run (1 slow test deselected, fuzz at "
FULL_LINE = "the full depth, as CI runs it: ENVLOCK_TEST_FULL=1 python -m pytest"


def test_a_local_run_leaves_out_the_slow_tests_and_says_how_to_run_them() -> None:
    done = _plain_pytest("tests/commands", "-k", "completion", cwd=REPO)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert BASH in done.stdout and ZSH not in done.stdout
    (line,) = [ln for ln in done.stdout.splitlines() if ln.startswith("envlock: ")]
    assert line.startswith(LOCAL_LINE) and line.endswith(FULL_LINE), line


@pytest.mark.parametrize("depth", [{"CI": "true"}, {"ENVLOCK_TEST_FULL": "1"}])
def test_the_full_depth_runs_every_test(depth: dict[str, str]) -> None:
    """Under CI nothing is left out (and nothing is said about a local run)."""
    done = _plain_pytest("tests/commands", "-k", "completion", cwd=REPO, depth=depth)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert BASH in done.stdout and ZSH in done.stdout
    assert "envlock: a local run" not in done.stdout


@pytest.mark.parametrize(
    "args",
    [
        (f"tests/commands/test_completion.py::{ZSH}",),  # its file or the test named
        ("tests/commands", "-k", "completion", "-m", "slow"),  # chosen by marker
    ],
)
def test_a_slow_test_asked_for_runs_locally(args: tuple[str, ...]) -> None:
    done = _plain_pytest(*args, cwd=REPO)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert ZSH in done.stdout
    assert "slow test" not in done.stdout


TARGET = ("tests/commands", "-k", f"{ZSH} or {BASH}")


@pytest.mark.slow  # two workers' start-up: CI holds it
def test_the_summary_counts_what_xdist_workers_left_out() -> None:
    """With `-n 2` the controller collects nothing: the count comes from the workers."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "2", "-p", "no:cacheprovider", "-q", *TARGET],
        cwd=REPO,
        env={k: v for k, v in clean_env().items() if k not in DEPTH},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert " passed in " in done.stdout.splitlines()[-1], done.stdout[-2000:]
    assert LOCAL_LINE in done.stdout, done.stdout[-2000:]


@pytest.mark.slow  # the whole suite collected by two workers: CI holds it
@pytest.mark.parametrize(
    ("depth", "args", "workers"),
    [
        ({}, (), True),  # the default local run: two workers
        ({}, ("-n", "0"), False),  # asked for serial
        ({}, ("tests/commands",), False),  # a path named: serial, as asked
        ({"CI": "true"}, (), True),  # CI's run too: two workers on its two cores
    ],
)
def test_the_default_local_run_takes_two_workers(
    depth: dict[str, str], args: tuple[str, ...], workers: bool
) -> None:
    env = {k: v for k, v in clean_env().items() if k not in DEPTH}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-k", BASH, *args],
        cwd=REPO,
        env={**env, **depth},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert ("bringing up nodes" in done.stdout) is workers, done.stdout[-2000:]
    assert re.match(r"\d+ passed\b", done.stdout.splitlines()[-1]), done.stdout[-2000:]


WIDTH_TESTS = ("tests/pasted/test_cli_pasted.py", "tests/report/test_verify_drift_text.py")


@pytest.mark.slow  # two workers' start-up: CI holds it
def test_xdist_workers_render_at_the_runs_own_width() -> None:
    """xdist gives its workers COLUMNS=80 the run did not have: envlock's tables, cut to
    80 columns there, lost the cells these tests look for (they passed in one process)."""
    env = {k: v for k, v in clean_env().items() if k not in (*DEPTH, "COLUMNS", "LINES")}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "2", "-p", "no:cacheprovider", "-q", *WIDTH_TESTS],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
