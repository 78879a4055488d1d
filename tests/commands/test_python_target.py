"""`--python OTHER` probes OTHER's environment, from a normal (non-editable) install.

The callers are copies of the provisioned torch venvs with envlock installed from a
wheel of this checkout (not editable, not from the checkout on PYTHONPATH): the way
users run envlock. Their site-packages holds a torch; the target's answer must not.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from tests.ci.tree import tracked_copy
from tests.conftest import REPO

pytestmark = pytest.mark.venv


def _site_packages(python: Path) -> Path:
    out = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return Path(out)


@pytest.fixture(scope="module")
def envlock_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    tree = tracked_copy(tmp_path_factory.mktemp("tree"))  # no egg-info left in the checkout
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(tree)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = out.glob("*.whl")  # torch_envlock-*.whl: the distribution's name
    return wheel


def _caller_like(source_python: Path, wheel: Path, dest: Path) -> Path:
    """A plain venv holding what `source_python`'s venv holds (torch and envlock's
    dependencies, linked) but envlock installed from the wheel, not editable."""
    venv.EnvBuilder(with_pip=False).create(dest)
    py = dest / "bin" / "python"
    site = _site_packages(py)
    for entry in _site_packages(source_python).iterdir():
        name = entry.name.lower()
        if "envlock" in name or name.startswith(("__editable__", "_virtualenv")):
            continue
        (site / entry.name).symlink_to(entry)
    subprocess.run(
        [str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return py


def _probe(caller: Path, target: Path | str, tmp: Path) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    cli = str(caller.parent / "envlock")
    proc = subprocess.run(
        [cli, "probe", "--python", str(target), "--json", "--no-torch-live"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp,  # not the checkout: nothing of it on the path
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    facts: dict[str, object] = json.loads(proc.stdout)
    return facts


def _torch_version(facts: dict[str, object]) -> object:
    torch = facts.get("torch")
    return torch.get("version") if isinstance(torch, dict) else None


def test_each_direction_reports_the_targets_torch(
    cpu_python: Path, cuda_python: Path, envlock_wheel: Path, tmp_path: Path
) -> None:
    from_cpu = _caller_like(cpu_python, envlock_wheel, tmp_path / "cpu-caller")
    from_cuda = _caller_like(cuda_python, envlock_wheel, tmp_path / "cuda-caller")
    # the install is the wheel's, not the checkout's
    where = subprocess.run(
        [str(from_cpu), "-c", "import envlock; print(envlock.__file__)"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=True,
    ).stdout
    assert str(tmp_path / "cpu-caller") in where and str(REPO) not in where

    assert _torch_version(_probe(from_cpu, cuda_python, tmp_path)) == "2.14.1+cu130"
    assert _torch_version(_probe(from_cuda, cpu_python, tmp_path)) == "2.13.0+cpu"
    # and each caller probing itself still sees its own torch
    assert _torch_version(_probe(from_cpu, from_cpu, tmp_path)) == "2.13.0+cpu"


def test_a_venv_without_torch_is_reported_without_torch(
    cpu_python: Path, envlock_wheel: Path, tmp_path: Path
) -> None:
    caller = _caller_like(cpu_python, envlock_wheel, tmp_path / "caller")
    bare = tmp_path / "bare"
    venv.EnvBuilder(with_pip=False).create(bare)
    facts = _probe(caller, bare / "bin" / "python", tmp_path)
    assert _torch_version(facts) is None
    packages = facts.get("packages")
    assert isinstance(packages, dict)
    distributions = packages.get("distributions") or {}
    assert isinstance(distributions, dict)
    names = {str(n).lower() for n in distributions}
    assert not {"torch", "rich", "envlock", "torch-envlock", "nvidia-ml-py"} & names, names


@pytest.mark.slow
def test_doctor_in_a_fresh_venv_without_torch_fails_and_names_the_interpreter(
    envlock_wheel: Path, tmp_path: Path
) -> None:
    """The README's first command: `pip install . && envlock doctor` in a fresh venv."""
    fresh = tmp_path / "fresh"
    venv.EnvBuilder(with_pip=True).create(fresh)
    subprocess.run(
        [str(fresh / "bin" / "python"), "-m", "pip", "install", "-q", str(envlock_wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    cmd = [str(fresh / "bin" / "envlock"), "doctor", "--no-torch-live"]
    proc = subprocess.run(
        [*cmd, "--format", "json"], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    (missing,) = [f for f in report["findings"] if f["id"] == "EL-TORCH-MISSING"]
    assert missing["severity"] == "error"
    python = str(fresh / "bin" / "python")
    assert python in missing["message"]
    assert report["details"]["interpreter"].startswith(python + " (Python ")
    # the target is what the probe found: a container is not called the host
    probed = subprocess.run(
        [*cmd[:1], "probe", "--json", "--no-torch-live"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=True,
    )
    container = json.loads(probed.stdout)["system"]["container"]
    runtime = container.get("runtime") if container and container.get("detected") else None
    if container and container.get("detected"):
        assert report["target"] == (f"this {runtime} container" if runtime else "this container")
    else:
        assert report["target"] == "host"
    text = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path)
    assert text.stdout.startswith("FAIL") and f"interpreter: {python}" in text.stdout
