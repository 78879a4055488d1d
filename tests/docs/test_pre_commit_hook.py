"""The shipped pre-commit hook, run by the real pre-commit (`pre-commit try-repo`) against
a real venv: it verifies the project's environment, so it passes where the environment
matches the lock and fails on drift (with language: python it verified pre-commit's own
isolated hook environment, which has no torch, and could not pass)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, clean_env, need, run_envlock

pytestmark = pytest.mark.venv


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        timeout=60,
    )


def _hook_repo(tmp: Path) -> Path:
    """A git clone of this checkout with its working-tree hook file committed: try-repo
    needs a repository, and gets envlock's whole source, as from a real `repo:` URL."""
    repo = tmp / "envlock-hooks"
    subprocess.run(
        ["git", "clone", "-q", "--no-local", str(REPO), str(repo)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    shutil.copy(REPO / ".pre-commit-hooks.yaml", repo / ".pre-commit-hooks.yaml")
    _git(repo, "add", ".pre-commit-hooks.yaml")
    _git(repo, "commit", "-q", "--allow-empty", "-m", "this checkout's hook file")
    return repo


def _project(tmp: Path, locked_in: Path) -> Path:
    """A project repo whose committed envlock.lock.toml was made in the venv `locked_in`."""
    project = tmp / "project"
    project.mkdir()
    proc = run_envlock(
        ["lock", "--scope", "software", "-o", str(project / "envlock.lock.toml")],
        python=locked_in,
    )
    assert proc.returncode == 0, proc.stderr
    _git(project, "init", "-q")
    _git(project, "add", "envlock.lock.toml")
    _git(project, "commit", "-q", "-m", "lock")
    return project


def _try_repo(
    project: Path, hooks: Path, venv_python: Path, tmp: Path
) -> subprocess.CompletedProcess[str]:
    """`pre-commit try-repo HOOKS envlock-verify --all-files`, with the venv activated
    (its bin first on PATH, as `source .venv/bin/activate` does)."""
    env = clean_env(
        PATH=f"{venv_python.parent}{os.pathsep}{os.environ.get('PATH', '')}",
        VIRTUAL_ENV=str(venv_python.parent.parent),
        PRE_COMMIT_HOME=str(tmp / "pre-commit-cache"),
    )
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pre_commit",
            "try-repo",
            str(hooks),
            "envlock-verify",
            "--all-files",
        ],
        cwd=project,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )


@pytest.fixture
def hooks(tmp_path: Path) -> Path:
    try:
        import pre_commit  # noqa: F401
    except ImportError:
        need(False, "pre-commit is not installed (pip install -e '.[test]' installs it)")
    return _hook_repo(tmp_path)


def test_hook_passes_in_the_venv_that_matches_the_lock(
    hooks: Path, cpu_python: Path, tmp_path: Path
) -> None:
    project = _project(tmp_path, cpu_python)
    proc = _try_repo(project, hooks, cpu_python, tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "envlock verify (software scope)" in out and "Passed" in out, out


def test_hook_fails_on_drift(
    hooks: Path, cpu_python: Path, cuda_python: Path, tmp_path: Path
) -> None:
    """Locked in the CPU venv, committed from the CUDA venv: torch drifted."""
    project = _project(tmp_path, cpu_python)
    proc = _try_repo(project, hooks, cuda_python, tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "Failed" in out and "torch.version" in out, out
    assert "2.14.1+cu130" in out, out
