"""A package envlock needs is the tool's only when nothing else installed requires it
(issue 21 item 12): the installed dependency graph (Requires-Dist) decides, so a project
that needs tomli has it locked and checked, and downgrading it fails verify --strict.

Real environments: the torch-cpu venv (envlock and its requirements installed) linked
into a job venv, plus a project's and tomli's dist-info written as an installer would.
"""

from __future__ import annotations

import subprocess
import venv
from pathlib import Path

import pytest

from envlock.lock import read_lock
from tests.conftest import run_envlock

pytestmark = pytest.mark.venv


def _site_packages(python: Path) -> Path:
    code = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    return Path(subprocess.check_output([str(python), "-c", code], text=True).strip())


def _dist_info(site: Path, name: str, version: str, *requires: str) -> None:
    info = site / f"{name}-{version}.dist-info"
    info.mkdir()
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    lines += [f"Requires-Dist: {r}" for r in requires]
    (info / "METADATA").write_text("\n".join(lines) + "\n\n")


def _job(cpu_python: Path, root: Path, *, project: bool) -> tuple[Path, Path]:
    venv.EnvBuilder(with_pip=False).create(root)
    site = _site_packages(root / "bin" / "python")
    for entry in _site_packages(cpu_python).iterdir():
        (site / entry.name).symlink_to(entry)
    _dist_info(site, "tomli", "2.2.1")
    if project:
        _dist_info(site, "myproj", "1.0", "tomli>=2", "rich; extra == 'pretty'")
    return root / "bin" / "python", site


def _lock(python: Path, lock: Path) -> None:
    proc = run_envlock(["lock", "--python", str(python), "--no-torch-live", "-o", str(lock)])
    assert proc.returncode == 0, proc.stderr


def test_a_tool_package_the_project_requires_is_locked_and_checked(
    cpu_python: Path, tmp_path: Path
) -> None:
    python, site = _job(cpu_python, tmp_path / "job", project=True)
    lock = tmp_path / "envlock.lock.toml"
    _lock(python, lock)
    locked = read_lock(lock)
    assert locked.packages.get("tomli") == "2.2.1", locked.tools
    # rich is required only for myproj's extra: still envlock's
    assert "rich" in locked.tools and "rich" not in locked.packages
    (site / "tomli-2.2.1.dist-info").rename(site / "tomli-1.2.0.dist-info")
    proc = run_envlock(
        ["verify", str(lock), "--python", str(python), "--no-torch-live", "--strict"]
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "packages.tomli" in proc.stdout


def test_a_tool_package_only_envlock_needs_stays_in_tools(cpu_python: Path, tmp_path: Path) -> None:
    python, site = _job(cpu_python, tmp_path / "job", project=False)
    lock = tmp_path / "envlock.lock.toml"
    _lock(python, lock)
    locked = read_lock(lock)
    assert "tomli" in locked.tools and "tomli" not in locked.packages
    (site / "tomli-2.2.1.dist-info").rename(site / "tomli-1.2.0.dist-info")
    proc = run_envlock(
        ["verify", str(lock), "--python", str(python), "--no-torch-live", "--strict"]
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_probe_names_the_same_tool_packages_as_the_model() -> None:
    from envlock.lock import TOOL_PACKAGES
    from envlock.lock.model import SELF_PACKAGES
    from envlock.probe import packages

    assert packages.SELF_PACKAGES == SELF_PACKAGES
    assert packages.SELF_PACKAGES | packages.ENVLOCK_REQUIREMENTS == TOOL_PACKAGES
