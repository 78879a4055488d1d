"""verify's fix for a torch change where conda holds torch (issue 21 item 6, left by session
4): the pip line that puts the locked torch back removes conda's torch family first, as the
doctor's and matrix's do (checks/hints.py), or pip's torch lands beside conda's pytorch
(EL-TORCH-TWO-INSTALLS). A conda environment is told by what the probe records of it: the
conda-meta/<name>-<version>-<build>.json records in the interpreter's prefix.

A real prefix: a venv, a torch distribution installed into it by pip from a local wheel
(conda's pytorch carries such a torch-X.dist-info; its INSTALLER says conda), and the
conda-meta records of a pixi/conda-forge CUDA environment (pytorch 2.7.1 cuda129 with its
pytorch-gpu metapackage and libtorch, listed by `pixi list` in the Carpentries lesson
"Reproducible Machine Learning Workflows", whose pytorch-gpu record is copied here as it
was printed). The lock is the recorded CPU venv's (torch 2.13.0+cpu); verify runs on the
venv through the CLI (`--python`), so what it reads is what the probe records."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from envlock.checks.registry import run_checks
from envlock.facts import Facts
from envlock.lock import build_lock
from envlock.lock.io import dumps_lock
from tests.checks.test_fixes_recheck import _conda_remove, _follow_verify_fix
from tests.conftest import clean_env, run_envlock
from tests.facts_builders import cpu_venv

TORCH = "2.7.1"
# conda names each record <name>-<version>-<build>.json (the probe reads the names only)
RECORDS = {
    "pytorch": (TORCH, "cuda129_mkl_py313_h1e53aa0_304"),
    "pytorch-gpu": (TORCH, "cuda129_mkl_h43a4b0b_304"),
    "libtorch": (TORCH, "cuda129_mkl_h9562ed8_304"),
    "python": ("3.11.7", "hab00c5b_0_cpython"),
}
# conda-meta/pytorch-gpu-2.7.1-cuda129_mkl_h43a4b0b_304.json as the lesson printed it
PYTORCH_GPU_RECORD = {
    "build": "cuda129_mkl_h43a4b0b_304",
    "build_number": 304,
    "depends": ["pytorch 2.7.1 cuda*_mkl*304"],
    "license": "BSD-3-Clause",
    "license_family": "BSD",
    "md5": "e374ee50f7d5171d82320bced8165e85",
    "name": "pytorch-gpu",
    "sha256": "af54e6535619f4e484d278d015df6ea67622e2194f78da2c0541958fc3d83d18",
    "size": 48008,
    "subdir": "linux-64",
    "timestamp": 1753886159800,
    "version": "2.7.1",
    "fn": "pytorch-gpu-2.7.1-cuda129_mkl_h43a4b0b_304.conda",
    "url": "https://conda.anaconda.org/conda-forge/linux-64/pytorch-gpu-2.7.1-cuda129_mkl_h43a4b0b_304.conda",
    "channel": "https://conda.anaconda.org/conda-forge/",
    "files": [],
    "paths_data": {"paths_version": 1, "paths": []},
}


def _record(name: str, version: str, build: str) -> dict[str, object]:
    """A conda-meta record of the same shape for the other packages (the fields conda
    writes that say which package it is)."""
    if name == "pytorch-gpu":
        return PYTORCH_GPU_RECORD
    fn = f"{name}-{version}-{build}.conda"
    return {
        "build": build,
        "build_number": int(build.rsplit("_", 1)[-1]) if build[-1].isdigit() else 0,
        "name": name,
        "version": version,
        "subdir": "linux-64",
        "fn": fn,
        "url": f"https://conda.anaconda.org/conda-forge/linux-64/{fn}",
        "channel": "https://conda.anaconda.org/conda-forge/",
    }


def _torch_wheel(where: Path) -> Path:
    """A torch distribution as conda's pytorch leaves one in site-packages (no code)."""
    wheel = where / f"torch-{TORCH}-py3-none-any.whl"
    info = f"torch-{TORCH}.dist-info"
    files = {
        "torch/__init__.py": "from torch.version import __version__\n",
        # torch/version.py as torch writes it (conda-forge's CUDA 12.9 build: no local tag)
        "torch/version.py": (
            f"__version__ = '{TORCH}'\ndebug = False\ncuda: Optional[str] = '12.9'\n"
            "hip: Optional[str] = None\n"
        ),
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: torch\nVersion: {TORCH}\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "".join(f"{name},,\n" for name in files) + f"{info}/RECORD,,\n"
    with zipfile.ZipFile(wheel, "w") as z:
        for name, text in files.items():
            z.writestr(name, text)
        z.writestr(f"{info}/RECORD", record)
    return wheel


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real venv with that torch installed by pip (no conda-meta yet)."""
    root = tmp_path_factory.mktemp("condatorch")
    env = root / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    py = env / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--python", str(py), "install", "--no-index", "--no-deps"]
    subprocess.run([*pip, "-q", str(_torch_wheel(root))], check=True, env=clean_env())
    return env


def _with_conda_meta(env: Path) -> None:
    meta = env / "conda-meta"
    meta.mkdir(exist_ok=True)
    for name, (version, build) in RECORDS.items():
        (meta / f"{name}-{version}-{build}.json").write_text(
            json.dumps(_record(name, version, build), indent=2)
        )


def _verify(env: Path, lock: Path) -> tuple[Facts, dict[str, object]]:
    """`envlock verify LOCK --python PY --format json` on the venv, and the facts its probe
    records (`envlock probe --python PY`)."""
    py = str(env / "bin" / "python")
    environ = clean_env()
    environ.pop("CONDA_PREFIX", None)  # the venv's own prefix decides, not this shell's
    probe = run_envlock(["probe", "--python", py, "--no-torch-live", "--json"], env=environ)
    assert probe.returncode == 0, probe.stderr
    args = ["verify", str(lock), "--python", py, "--no-torch-live", "--format", "json"]
    proc = run_envlock([*args, "--no-cache", "--no-determinism"], env=environ)
    assert proc.returncode in (0, 1), proc.stderr
    (torch,) = [f for f in json.loads(proc.stdout)["findings"] if f.get("field") == "torch.version"]
    return Facts.from_json(probe.stdout), torch


def _lock(tmp_path: Path) -> Path:
    path = tmp_path / "envlock.lock.toml"
    path.write_text(dumps_lock(build_lock(cpu_venv())))
    return path


_REMOVAL = re.compile(r"^conda remove --force ([^&]+?) && pip install ")


def test_verifys_torch_fix_removes_condas_family_first(venv: Path, tmp_path: Path) -> None:
    _with_conda_meta(venv)
    try:
        facts, finding = _verify(venv, _lock(tmp_path))
    finally:
        for path in (venv / "conda-meta").iterdir():
            path.unlink()
        (venv / "conda-meta").rmdir()
    assert facts.toolchain.conda_packages["pytorch"].startswith(TORCH)
    fix = str(finding["fix"])
    m = _REMOVAL.match(fix)
    assert m, fix
    # exactly conda's torch family, shell-quoted; not python, which conda also lists
    assert shlex.split(m.group(1)) == ["pytorch", "pytorch-gpu", "libtorch"]
    assert "pip install 'torch==2.13.0+cpu'" in fix
    # followed: conda's records gone, then pip's line as pip would leave it
    after = _follow_verify_fix(_conda_remove(facts, shlex.split(m.group(1))), fix, cpu_venv())
    assert "EL-TORCH-TWO-INSTALLS" not in {f.check_id for f in run_checks(after)}
    # and the pip line alone (the fix as it was) leaves two installs: the re-check can fail
    pip_only = _follow_verify_fix(facts, fix, cpu_venv())
    assert "EL-TORCH-TWO-INSTALLS" in {f.check_id for f in run_checks(pip_only)}


def test_the_same_venv_without_conda_meta_gets_the_pip_line_alone(
    venv: Path, tmp_path: Path
) -> None:
    facts, finding = _verify(venv, _lock(tmp_path))
    assert facts.toolchain.conda_packages == {}
    assert str(finding["fix"]).startswith("pip install 'torch==2.13.0+cpu'")


def _offer(env: Path, lock: Path) -> str:
    """The line of verify's text output that offers `envlock restore`."""
    py = str(env / "bin" / "python")
    environ = clean_env()
    environ.pop("CONDA_PREFIX", None)
    args = ["verify", str(lock), "--python", py, "--no-torch-live", "--no-cache"]
    proc = run_envlock([*args, "--no-determinism"], env={**environ, "COLUMNS": "400"})
    assert proc.returncode == 1, proc.stderr
    (line,) = [ln for ln in proc.stdout.splitlines() if "envlock restore" in ln]
    return line.split(": ", 1)[1].strip()


def test_the_restore_offer_is_a_command_restore_takes(venv: Path, tmp_path: Path) -> None:
    """verify offers `envlock restore LOCK` where a reinstall is the fix: with the
    interpreter it verified (restore needs --python or --venv: without one the offer was a
    usage error, exit 2), and where conda holds torch, conda's family removed first (restore
    installs torch with pip). The offer, run with --dry-run, is accepted."""
    lock = _lock(tmp_path)
    py = str(venv / "bin" / "python")
    offer = _offer(venv, lock)
    assert shlex.split(offer) == ["envlock", "restore", str(lock), "--python", py]
    dry = run_envlock([*shlex.split(offer)[1:], "--dry-run"])
    assert dry.returncode != 2, dry.stderr
    _with_conda_meta(venv)
    try:
        conda_offer = _offer(venv, lock)
    finally:
        for path in (venv / "conda-meta").iterdir():
            path.unlink()
        (venv / "conda-meta").rmdir()
    removal, sep, restore = conda_offer.partition(" && ")
    assert sep and restore == offer, conda_offer
    assert shlex.split(removal) == shlex.split("conda remove --force pytorch pytorch-gpu libtorch")
