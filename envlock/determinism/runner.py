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
import tempfile

from envlock.childio import stream_lines
from envlock.determinism import DEVICES, ERROR_MARK, PROGRESS_MARK, RESULT_MARK
from envlock.errors import DeterminismError, FactsError, UsageError, last_line
from envlock.facts import DeterminismFacts, _build, load_json
from envlock.probe._parentwatch import child_env
from envlock.probe._served import command, served
from envlock.report.progress import SILENT, Progress

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
    progress: Progress = SILENT,
) -> DeterminismFacts:
    """Run the suite under `python` (default: this interpreter) and return its facts;
    each class it starts is counted to `progress` (class i of n)."""
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
    # no line before the first class: a bad interpreter stays one line (its error)
    stdout, stderr, code = _run(cmd, timeout, progress)
    if code is None:
        raise DeterminismError(f"determinism suite under {py} did not finish within {timeout:g} s")
    return parse_suite_output(stdout, stderr, code, py)


def _run(cmd: list[str], timeout: float, progress: Progress) -> tuple[str, str, int | None]:
    """The child's stdout (read as it comes: its class marks go to `progress`), stderr
    (a file: it cannot fill a pipe) and exit status; None when `timeout` ended it."""
    lines: list[str] = []

    def on_line(line: str) -> None:
        lines.append(line)
        _show(line, progress)

    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as err:
        try:
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
                errors="replace",
                env=child_env(),
            )
        except OSError as exc:
            raise DeterminismError(f"cannot run {cmd[0]}: {exc.strerror}") from None
        code = stream_lines(proc, timeout, on_line)
        err.seek(0)
        stderr = err.read()
    return "".join(lines), stderr, code


def _show(line: str, progress: Progress) -> None:
    """A class mark ('3 14 matmul') as 'class 3 of 14'."""
    if not line.startswith(PROGRESS_MARK):
        return
    parts = line[len(PROGRESS_MARK) :].split()
    if len(parts) == 3 and parts[0].isdigit() and parts[1].isdigit():
        progress.count(f"determinism class {parts[2]}", int(parts[0]), int(parts[1]))


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
