"""`envlock run -- env VAR=value python train.py` checks the python env runs (issue 21
item 9, found as a user: envlock's own interpreter was checked, and a valid launch was
refused). env's own grammar (coreutils env(1)): NAME=VALUE assignments, -i/--ignore-
environment, -u NAME/--unset=NAME, then the command; a PATH it sets is the one the
command is looked up in."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from envlock.usecases.run import command_interpreter


@pytest.fixture
def bin_dir(tmp_path: Path) -> Path:
    """A directory holding a python (a link to this interpreter) and env's own path."""
    d = tmp_path / "venv" / "bin"
    d.mkdir(parents=True)
    (d / "python").symlink_to(sys.executable)
    return d


def _env(bin_dir: Path) -> dict[str, str]:
    return {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}


@pytest.mark.parametrize(
    "prefix",
    [
        ["env"],
        ["env", "OMP_NUM_THREADS=1", "CUDA_VISIBLE_DEVICES=0"],
        ["env", "-u", "LD_PRELOAD", "NCCL_DEBUG=INFO"],
        ["env", "--unset=LD_PRELOAD", "--", "NCCL_DEBUG=INFO"],
        ["/usr/bin/env", "OMP_NUM_THREADS=1"],
    ],
)
def test_python_after_env_is_the_one_checked(bin_dir: Path, prefix: list[str]) -> None:
    found = command_interpreter([*prefix, "python", "train.py"], env=_env(bin_dir))
    assert not found.guessed, found.how
    assert found.path == str(bin_dir / "python")
    assert "env" in found.how


def test_a_path_env_sets_is_where_python_is_found(bin_dir: Path) -> None:
    cmd = ["env", f"PATH={bin_dir}", "python", "-m", "torch.distributed.run", "train.py"]
    found = command_interpreter(cmd, env={"PATH": os.defpath})
    assert found.path == str(bin_dir / "python") and not found.guessed


def test_env_alone_or_before_a_shell_script_is_still_a_guess(tmp_path: Path) -> None:
    script = tmp_path / "job.sh"
    script.write_text("#!/bin/sh\npython train.py\n")
    script.chmod(0o755)
    assert command_interpreter(["env", "A=1"], env={"PATH": os.environ["PATH"]}).guessed
    found = command_interpreter(["env", "A=1", str(script)], env={"PATH": os.environ["PATH"]})
    assert found.guessed and "--python" in found.how
