"""restore's verify probes only what the new venv changes (its interpreter, packages,
torch, extensions, environment), not the machine again under the new interpreter: no
NVML, no compilers' `--version` (issue 23 item 4). Real venvs, real installer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import clean_env

pytestmark = pytest.mark.venv

FAKE_GCC = """#!/bin/sh
echo "$0 $*" >> "{log}"
echo "gcc (GCC) 12.2.0"
"""


def run_envlock(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`python -m envlock ARGS` in a process of its own, with `env` (PATH's gcc)."""
    return subprocess.run(
        [sys.executable, "-m", "envlock", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )


@pytest.mark.slow
def test_restore_verifies_the_new_venv_without_probing_the_machine_again(
    tmp_path: Path,
) -> None:
    src = tmp_path / "src"
    subprocess.run([sys.executable, "-m", "venv", str(src)], check=True)
    env = clean_env(PIP_DISABLE_PIP_VERSION_CHECK="1")
    subprocess.run(
        [str(src / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps", "six==1.17.0"],
        check=True,
        env=env,
    )
    lock = tmp_path / "envlock.lock.toml"
    made = run_envlock(
        ["lock", "--python", str(src / "bin" / "python"), "--no-torch-live", "-o", str(lock)],
        env=env,
    )
    assert made.returncode == 0, made.stderr
    # a gcc first on PATH that says when it is asked: the doctor's toolchain source runs it
    tools = tmp_path / "tools"
    tools.mkdir()
    log = tmp_path / "gcc.log"
    (tools / "gcc").write_text(FAKE_GCC.format(log=log))
    (tools / "gcc").chmod(0o755)
    env["PATH"] = f"{tools}{os.pathsep}{env['PATH']}"
    probe = run_envlock(["probe", "--python", str(src / "bin" / "python"), "--json"], env=env)
    assert probe.returncode == 0 and log.read_text(), "the fake gcc is not on the probe's PATH"
    log.write_text("")

    proc = run_envlock(
        [
            *("restore", str(lock), "--venv", str(tmp_path / "restored")),
            *("--installer", "pip", "--format", "json"),
        ],
        env=env,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert report["details"]["venv"] == "replaced"
    assert "packages.six" in report["details"]["passed"]
    assert log.read_text() == "", "restore's verify ran the toolchain probe again"
