"""The documented pre-commit snippet (docs/ci.md, the README's until issue 22 item 10), as
printed, run by the real pre-commit: its YAML is taken from the page with only `repo:`
pointed at a local clone of this checkout and `rev:` at that clone's HEAD. pre-commit
builds the hook's environment (language: python), so the hook runs without an activated
venv, and verifies the project's interpreter (the activated venv, else the project's
.venv): it passes where that environment matches the lock and fails on drift."""

from __future__ import annotations

import os
import re
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
    """A git clone of this checkout with its working tree committed (the hook file and the
    package pre-commit installs): a real `repo:` to point the documented snippet at."""
    repo = tmp / "envlock-hooks"
    subprocess.run(
        ["git", "clone", "-q", "--no-local", str(REPO), str(repo)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    for name in (".pre-commit-hooks.yaml", "pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(REPO / name, repo / name)
    shutil.rmtree(repo / "envlock")
    shutil.copytree(
        REPO / "envlock", repo / "envlock", ignore=shutil.ignore_patterns("__pycache__")
    )
    _git(repo, "add", "-A", ".")
    _git(repo, "commit", "-q", "--allow-empty", "-m", "this checkout's working tree")
    return repo


def documented_snippet() -> str:
    """The documented pre-commit YAML block (docs/ci.md), as printed."""
    page = (REPO / "docs" / "ci.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", page, re.S)
    (block,) = [b for b in blocks if "id: envlock-verify" in b]
    return block


def _config(hooks: Path) -> str:
    """The documented snippet with `repo:` pointed at the clone and `rev:` at its HEAD."""
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=hooks, capture_output=True, text=True, check=True
    ).stdout.strip()
    text = documented_snippet()
    text, repos = re.subn(r"(?m)^(\s*- repo: )\S+.*$", rf"\g<1>{hooks}", text)
    text, revs = re.subn(r"(?m)^(\s*rev: )\S+.*$", rf"\g<1>{head}", text)
    assert repos == 1 and revs == 1, text
    return text


def _project(tmp: Path, locked_in: Path, hooks: Path) -> Path:
    """A project repo whose committed envlock.lock.toml was made in the venv `locked_in`,
    with the documented pre-commit config."""
    project = tmp / "project"
    project.mkdir()
    proc = run_envlock(
        ["lock", "--scope", "software", "-o", str(project / "envlock.lock.toml")],
        python=locked_in,
    )
    assert proc.returncode == 0, proc.stderr
    (project / ".pre-commit-config.yaml").write_text(_config(hooks))
    _git(project, "init", "-q")
    _git(project, "add", "envlock.lock.toml", ".pre-commit-config.yaml")
    _git(project, "commit", "-q", "-m", "lock")
    return project


def _no_venv_path() -> str:
    """PATH without any venv: what a shell has before `source .venv/bin/activate`."""
    return os.pathsep.join(
        p
        for p in os.environ.get("PATH", "").split(os.pathsep)
        if p and not (Path(p).parent / "pyvenv.cfg").is_file()
    )


def _pre_commit(
    project: Path, tmp: Path, activated: Path | None
) -> subprocess.CompletedProcess[str]:
    """`pre-commit run --all-files` in the project; `activated`: a venv's python whose bin
    is first on PATH (as `source .venv/bin/activate` does), or None: no venv activated."""
    path = _no_venv_path()
    env = clean_env(PRE_COMMIT_HOME=str(tmp / "pre-commit-cache"))
    env.pop("PYTHONPATH", None)  # the hook runs the envlock pre-commit installed
    env.pop("VIRTUAL_ENV", None)
    if activated is not None:
        path = f"{activated.parent}{os.pathsep}{path}"
        env["VIRTUAL_ENV"] = str(activated.parent.parent)
    env["PATH"] = path
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", "--all-files"],
        cwd=project,
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
        check=False,
    )


@pytest.fixture
def hooks(tmp_path: Path) -> Path:
    try:
        import pre_commit  # noqa: F401
    except ImportError:
        need(False, "pre-commit is not installed (pip install -e '.[test]' installs it)")
    return _hook_repo(tmp_path)


def test_the_documented_snippet_is_a_whole_config_with_a_release_rev() -> None:
    """`repos:` at the top, and the rev of this version's release tag."""
    from envlock import __version__

    config = documented_snippet()
    assert config.startswith("repos:\n"), config
    assert re.search(rf"(?m)^\s*rev: v{re.escape(__version__)}$", config), config


@pytest.mark.slow
def test_hook_passes_without_an_activated_venv(
    hooks: Path, cpu_python: Path, tmp_path: Path
) -> None:
    """No venv activated; the project's .venv is the venv the lock was made in."""
    project = _project(tmp_path, cpu_python, hooks)
    (project / ".venv").symlink_to(cpu_python.parent.parent, target_is_directory=True)
    proc = _pre_commit(project, tmp_path, activated=None)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "envlock verify (software scope)" in out and "Passed" in out, out


@pytest.mark.slow
def test_hook_fails_on_drift_in_the_activated_venv(
    hooks: Path, cpu_python: Path, cuda_python: Path, tmp_path: Path
) -> None:
    """Locked in the CPU venv, committed with the CUDA venv activated: torch drifted."""
    project = _project(tmp_path, cpu_python, hooks)
    proc = _pre_commit(project, tmp_path, activated=cuda_python)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "Failed" in out and "torch.version" in out, out
    assert "2.14.1+cu130" in out and f"checking {cuda_python}" in out, out
