"""Run the determinism suite under an interpreter (default: this one) in a child process.

This process never imports torch: a CUDA context must not leak into the
caller. The suite and the stdlib-only modules it imports are served from
memory (probe/_served.py), so it works for any interpreter that has torch,
whatever its site-packages, with or without envlock installed.
"""

from __future__ import annotations

import os
import subprocess
import sys

from envlock.determinism import DEVICES, ERROR_MARK, RESULT_MARK
from envlock.errors import DeterminismError, FactsError, UsageError, last_line
from envlock.facts import DeterminismFacts, _build, load_json
from envlock.probe._parentwatch import child_env
from envlock.probe._served import command, served

# What the suite imports, and nothing more (tests/probe/test_served.py holds this to
# the suite's imports): the modules travel in its command line.
SUITE_FILES = (
    "envlock/determinism/__init__.py",
    "envlock/determinism/suite.py",
    "envlock/probe/__init__.py",
    "envlock/probe/_parentwatch.py",
    "envlock/probe/libnames.py",
)
SUITE_ENTRY = "envlock.determinism.suite:main"


def run_suite(
    *,
    device: str = "auto",
    seed: int = 0,
    python: str | None = None,
    timeout: float = 300.0,
) -> DeterminismFacts:
    """Run the suite under `python` (default: this interpreter) and return its facts."""
    if device not in DEVICES:
        raise UsageError(f"determinism device must be one of {', '.join(DEVICES)}, not {device!r}")
    py = python or sys.executable
    if not (os.path.isfile(py) and os.access(py, os.X_OK)):
        raise DeterminismError(f"cannot run the determinism suite: {py} is not an executable file")
    try:
        files = served(SUITE_FILES)
    except OSError as exc:
        raise DeterminismError(f"determinism suite missing from envlock: {exc.strerror}") from None
    cmd = command(py, files, SUITE_ENTRY, ["--device", device, "--seed", str(seed)])
    try:
        proc = subprocess.run(
            cmd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env=child_env(),
        )
    except subprocess.TimeoutExpired:
        raise DeterminismError(
            f"determinism suite under {py} did not finish within {timeout:g} s"
        ) from None
    except OSError as exc:
        raise DeterminismError(f"cannot run {py}: {exc.strerror}") from None
    return parse_suite_output(proc.stdout, proc.stderr, proc.returncode, py)


def parse_suite_output(stdout: str, stderr: str, returncode: int, python: str) -> DeterminismFacts:
    for line in stdout.splitlines():
        if line.startswith(ERROR_MARK):
            raise DeterminismError(f"determinism suite under {python}: {line[len(ERROR_MARK) :]}")
        if line.startswith(RESULT_MARK) and returncode == 0:
            try:
                data = load_json(line[len(RESULT_MARK) :])
                return _build(DeterminismFacts, data, "determinism")
            except FactsError as exc:
                raise DeterminismError(
                    f"determinism suite under {python}: bad result: {exc}"
                ) from None
    last = last_line(stderr, "no output")
    raise DeterminismError(f"determinism suite under {python} failed (exit {returncode}): {last}")
