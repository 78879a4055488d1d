"""envlock's own requirements are the tool's, not the job's: never locked as exact.

Real environments: the torch-cpu venv has envlock installed, and with it nvidia-ml-py.
The job's environment without envlock (envlock run from pipx, or a CI image with
another envlock) is that venv with envlock and its nvidia-ml-py left out.
"""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

import pytest

from envlock.lock import read_lock
from tests.conftest import REPO, run_envlock

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def test_tool_packages_are_envlock_and_its_declared_requirements() -> None:
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    from envlock.lock import TOOL_PACKAGES

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    # its requirements, and its extras' but torch (the job's own)
    extras = [
        r
        for name, reqs in project["optional-dependencies"].items()
        if name != "torch"
        for r in reqs
    ]
    declared = {canonicalize_name(Requirement(r).name) for r in [*project["dependencies"], *extras]}
    # the distribution, and `envlock`: the name of this checkout's installs before the rename
    assert {canonicalize_name(project["name"]), "envlock", *declared} == TOOL_PACKAGES


def _site_packages(python: Path) -> Path:
    code = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    return Path(subprocess.check_output([str(python), "-c", code], text=True).strip())


@pytest.mark.venv
def test_a_lock_from_a_venv_with_envlock_holds_in_the_venv_without_it(
    cpu_python: Path, tmp_path: Path
) -> None:
    lock = tmp_path / "envlock.lock.toml"
    proc = run_envlock(
        ["lock", "--python", str(cpu_python), "--no-torch-live", "-o", str(lock)], cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    packages = read_lock(lock).packages
    assert "torch" in packages and "nvidia-ml-py" not in packages, packages

    # the same venv without envlock and its nvidia-ml-py (pynvml.py is nvidia-ml-py's)
    job = tmp_path / "job"
    venv.EnvBuilder(with_pip=False).create(job)
    site = _site_packages(job / "bin" / "python")
    for entry in _site_packages(cpu_python).iterdir():
        name = entry.name.lower()
        if "envlock" in name or name.startswith(("__editable__", "nvidia_ml_py", "pynvml")):
            continue
        (site / entry.name).symlink_to(entry)
    proc = run_envlock(
        ["verify", str(lock), "--python", str(job / "bin" / "python"), "--no-torch-live"],
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
