"""The verdict's exit code survives a closed pipe: decided before output, whatever the
reader does with stdout (reads it all, reads one byte, never reads), under pipefail as in
GitHub Actions' default shell; a closed pipe is silent."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from envlock.report import FORMATS
from tests.conftest import FIXTURES, clean_env, run_envlock

LOCKED = FIXTURES / "facts.cpu-venv-nodriver.json"
DRIFTED = FIXTURES / "facts.cuda-venv-nodriver.json"
READERS = {"direct": "", "true": " | true", "head": " | head -c1 >/dev/null"}


@pytest.fixture(scope="module")
def lock(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pipes") / "envlock.lock.toml"
    done = run_envlock(["lock", "--facts", str(LOCKED), "-o", str(path)])
    assert done.returncode == 0, done.stderr
    return path


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("reader", sorted(READERS))
@pytest.mark.parametrize(("facts", "code"), [(LOCKED, 0), (DRIFTED, 1)], ids=["pass", "drift"])
def test_exit_code_survives_the_reader(
    lock: Path, fmt: str, reader: str, facts: Path, code: int
) -> None:
    cmd = " ".join(
        shlex.quote(a)
        for a in (sys.executable, "-m", "envlock", "verify", str(lock), "--facts", str(facts))
    )
    cmd += f" --format {fmt}{READERS[reader]}"
    # The pipeline's own status under pipefail, and envlock's through PIPESTATUS.
    script = f'{cmd}; echo "status=$? envlock=${{PIPESTATUS[0]}}" >&2'
    done = subprocess.run(
        ["bash", "-o", "pipefail", "-c", script],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=120,
        check=False,
    )
    last = done.stderr.strip().splitlines()[-1]
    assert last == f"status={code} envlock={code}", done.stderr
    # a closed pipe is silent: nothing but the status line on stderr
    noise = [ln for ln in done.stderr.splitlines()[:-1] if "Broken pipe" in ln or "Error" in ln]
    assert not noise, done.stderr
