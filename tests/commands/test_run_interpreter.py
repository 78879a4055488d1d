"""envlock run checks the interpreter the command runs, not envlock's own (issue 21 item 9).

envlock runs here under the suite's interpreter (no torch); the lock is made from the
torch 2.13.0 CPU venv. A command that runs that venv's python passes and runs; one
that runs a python without torch is refused, and the output names the interpreter.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import clean_env, run_envlock

pytestmark = pytest.mark.venv

EXIT_7 = ["-c", "import sys; sys.exit(7)"]


@pytest.fixture(scope="module")
def cpu_lock(tmp_path_factory: pytest.TempPathFactory, cpu_python: Path) -> Path:
    lock = tmp_path_factory.mktemp("runlock") / "envlock.lock.toml"
    proc = run_envlock(["lock", "--python", str(cpu_python), "-o", str(lock)])
    assert proc.returncode == 0, proc.stderr
    return lock


@pytest.fixture(scope="module")
def bare_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv's bin with a python and no torch."""
    venv = tmp_path_factory.mktemp("bare") / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120
    )
    return venv / "bin"


def _path_env(first: Path, tmp: Path) -> dict[str, str]:
    return clean_env(
        PATH=f"{first}{os.pathsep}{os.environ['PATH']}", ENVLOCK_CACHE_DIR=str(tmp / "cache")
    )


def _run(lock: Path, cmd: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run_envlock(["run", "--lock", str(lock), "--", *cmd], env=env)


def test_python_on_the_commands_path_is_checked(
    cpu_lock: Path, cpu_python: Path, tmp_path: Path
) -> None:
    proc = _run(cpu_lock, ["python", *EXIT_7], _path_env(cpu_python.parent, tmp_path))
    assert proc.returncode == 7, proc.stderr
    assert f"checked {cpu_python.parent / 'python'}" in proc.stderr


def test_python_m_without_torch_is_refused_and_named(
    cpu_lock: Path, bare_bin: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "ran"
    cmd = ["python3", "-m", "this"]
    proc = _run(cpu_lock, cmd, _path_env(bare_bin, tmp_path))
    assert proc.returncode == 1, proc.stderr
    assert f"checked {bare_bin / 'python3'}" in proc.stderr
    assert "not running the command" in proc.stderr and not marker.exists()


@pytest.mark.slow
def test_console_script_shebang_is_checked(
    cpu_lock: Path, cpu_python: Path, bare_bin: Path, tmp_path: Path
) -> None:
    """torchrun-like scripts: a plain shebang, `env python3`, and pip's sh launcher."""
    scripts = tmp_path / "bin"
    scripts.mkdir()
    for name, head in (
        ("torchrun", f"#!{cpu_python}\n"),
        ("accelerate", "#!/usr/bin/env python3\n"),
        ("deepspeed", f"#!/bin/sh\n'''exec' \"{cpu_python}\" \"$0\" \"$@\"\n' '''\n"),
    ):
        script = scripts / name
        script.write_text(head + "import sys\nsys.exit(7)\n")
        script.chmod(0o755)
    env = _path_env(scripts, tmp_path)
    # `env python3` resolves on the command's PATH: the CPU venv's bin after the scripts
    env["PATH"] = f"{scripts}{os.pathsep}{cpu_python.parent}{os.pathsep}{os.environ['PATH']}"
    for name in ("torchrun", "accelerate", "deepspeed"):
        proc = _run(cpu_lock, [name], env)
        assert proc.returncode == 7, (name, proc.stderr)
        assert f"the shebang of {scripts / name}" in proc.stderr, proc.stderr
    # the same script under a python without torch is refused
    (scripts / "torchrun").write_text(f"#!{bare_bin / 'python'}\nimport sys\nsys.exit(7)\n")
    proc = _run(cpu_lock, ["torchrun"], env)
    assert proc.returncode == 1, proc.stderr
    assert f"checked {bare_bin / 'python'}" in proc.stderr


def test_launcher_takes_python(cpu_lock: Path, cpu_python: Path, tmp_path: Path) -> None:
    """srun or a shell script: --python names the interpreter; without it the output
    says envlock's own was checked."""
    env = _path_env(tmp_path, tmp_path)
    cmd = ["sh", "-c", "exit 7"]
    proc = run_envlock(
        ["run", "--lock", str(cpu_lock), "--python", str(cpu_python), "--", *cmd], env=env
    )
    assert proc.returncode == 7, proc.stderr
    assert f"checked {cpu_python} (--python)" in proc.stderr
    proc = _run(cpu_lock, cmd, env)
    assert proc.returncode == 1
    assert "envlock's own interpreter; sh is not a Python command" in proc.stderr
