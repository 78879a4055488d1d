"""Text output that is not a terminal (a pipe, a CI log, a file) carries no padding.

rich pads table cells, and an empty table's title, to the console width; off a terminal
that width is unbounded (no value may be cut), so `envlock probe | cat` wrote about a
million spaces per empty section (issue 22 item 4). Every line of text output ends in
its last visible character, and the size of the output is that of its text.
"""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest

from envlock.report.digests import render_digests
from envlock.report.text import console_for
from tests.conftest import FIXTURES, REPO, clean_env, run_envlock
from tests.determinism.recordings import CPU_2_13, load

CUDA = FIXTURES / "facts.cuda-venv+h100-driver-580-replayed.json"
CPU = FIXTURES / "facts.cpu-venv-nodriver.json"
# The largest of these outputs (a probe with every package of this interpreter) is a few
# tens of kilobytes; the padding made it a megabyte per empty section.
SANE_BYTES = 256 * 1024


def _env() -> dict[str, str]:
    """No COLUMNS (a CI runner's pipe), and none of the variables the probe shows: its
    environment section is empty, as on a plain machine (the checkout is found from the
    working directory, REPO, instead of PYTHONPATH)."""
    env = clean_env()
    for name in ("COLUMNS", "LINES", "FORCE_COLOR", "TTY_COMPATIBLE", "PYTHONPATH"):
        env.pop(name, None)
    return env


def envlock(args: list[str]) -> subprocess.CompletedProcess[str]:
    return run_envlock(args, env=_env(), cwd=REPO)


def assert_unpadded(text: str) -> None:
    assert len(text.encode()) < SANE_BYTES, f"{len(text.encode())} bytes"
    padded = [ln for ln in text.split("\n") if ln != ln.rstrip()]
    assert not padded, f"{len(padded)} lines end in blanks, first: {padded[0][:80]!r}"


def lock_of(facts: Path, tmp_path: Path) -> Path:
    lock = tmp_path / "envlock.lock.toml"
    done = envlock(["lock", "--facts", str(facts), "-o", str(lock)])
    assert done.returncode == 0, done.stderr
    return lock


@pytest.mark.parametrize(
    "args",
    [
        ["probe"],  # this machine: its empty sections (no GPU, no variables) were padded
        ["probe", "--facts", str(CUDA)],
        ["probe", "--facts", str(CPU)],
        ["doctor", "--facts", str(CUDA)],
        ["matrix", "--facts", str(CUDA)],
        ["matrix", "--facts", str(CUDA), "--all"],
        ["explain", "137", "--facts", str(CPU)],
    ],
    ids=lambda a: " ".join(Path(x).name for x in a),
)
def test_piped_text_output_has_no_trailing_blanks(args: list[str]) -> None:
    done = envlock(args)  # stdout is a pipe
    assert done.returncode in (0, 1), done.stderr
    assert done.stdout.strip()
    assert_unpadded(done.stdout)


def test_piped_verify_drift_table_has_no_trailing_blanks(tmp_path: Path) -> None:
    lock = lock_of(CPU, tmp_path)
    done = envlock(["verify", str(lock), "--facts", str(CUDA)])
    assert done.returncode == 1, done.stderr
    assert "drift" in done.stdout
    assert_unpadded(done.stdout)


def test_the_real_cli_piped_into_cat(tmp_path: Path) -> None:
    """`envlock probe | cat` as a user types it: the shell's pipe, not a test's."""
    out = tmp_path / "out.txt"
    cmd = f"{subprocess.list2cmdline(['python', '-m', 'envlock', 'probe'])} | cat > {out}"
    done = subprocess.run(
        ["bash", "-c", cmd],
        env=_env(),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert_unpadded(out.read_text())


def test_the_determinism_table_off_a_terminal_has_no_trailing_blanks() -> None:
    out = io.StringIO()
    render_digests(load(CPU_2_13), out)
    assert "elementwise" in out.getvalue()
    assert_unpadded(out.getvalue())


def test_trailing_blanks_are_dropped_across_writes_but_inner_ones_kept() -> None:
    """rich writes a print at a time: a line's blanks may end one write and the next
    write may continue the line (then they were not trailing) or end it."""
    out = io.StringIO()
    console = console_for(out)
    console.print("a  b   ", end="")
    console.print("c   ", end="")
    console.print("   ")
    console.print("d \n\ne")
    assert out.getvalue() == "a  b   c\nd\n\ne\n"
