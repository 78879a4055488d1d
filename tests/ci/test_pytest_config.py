"""How contributors run the tests (issue 22 item 11): plain `pytest`, from the checkout or
from anywhere else, collects the suite: the tests import `tests.conftest`, which only
worked under `python -m pytest` because that puts the working directory on sys.path."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, clean_env


def _plain_pytest(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`pytest ARGS` as the console script runs it: -P keeps the working directory off
    sys.path, as for /usr/bin/pytest, and nothing of this run's PYTHONPATH is passed on."""
    env = clean_env()
    env.pop("PYTHONPATH")
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
    done = _plain_pytest(cwd=REPO)
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
    ],
)
def test_fuzz_depth_is_full_in_ci_and_quick_locally(env: dict[str, str], expected: int) -> None:
    base = clean_env(**env)
    for name in ("CI", "FUZZ_EXAMPLES"):
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
