"""The release as users get it: `python -m build` makes an sdist and a wheel that
`twine check` passes, and the wheel (not this tree) installed into a fresh venv runs the
README's commands, with the matrix TOML, explain's messages and the schemas inside it.

.ci/run builds into dist/ and sets ENVLOCK_DIST; without it the test builds from a copy
of the tracked tree (the build leaves an egg-info behind, which the tree must not get).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest
import tomllib

from envlock import __version__
from tests.ci.tree import tracked_copy
from tests.conftest import FIXTURES, REPO, need
from tests.docs.test_readme import first_screen_commands

PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
STEM = re.sub(r"[-_.]+", "_", PROJECT["name"]).lower()  # the name in file names (PEP 625)
DATA = (
    "envlock/explain_messages.toml",
    "envlock/matrix/torch.toml",
    "envlock/matrix/gpus.toml",
    "envlock/matrix/drivers.toml",
    "envlock/schemas/findings.schema.json",
    "envlock/schemas/envlock.lock.schema.json",
    "envlock/schemas/matrix.schema.json",
    "envlock/py.typed",
)


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    built = os.environ.get("ENVLOCK_DIST")
    if built:
        return Path(built)
    out = tmp_path_factory.mktemp("dist")
    # run outside the checkout: its build/ directory would shadow the `build` package
    has_build = subprocess.run([sys.executable, "-c", "import build.__main__"], cwd=out)
    need(has_build.returncode == 0, "`build` is not installed (`--group dev` installs it)")
    tree = tracked_copy(tmp_path_factory.mktemp("tree"))
    proc = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(tree)],
        cwd=out,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out


def _one(dist: Path, pattern: str) -> Path:
    (found,) = dist.glob(pattern)
    return found


@pytest.mark.slow
def test_build_makes_an_sdist_and_a_wheel_that_twine_accepts(dist: Path) -> None:
    wheel = _one(dist, f"{STEM}-{__version__}-py3-none-any.whl")
    sdist = _one(dist, f"{STEM}-{__version__}.tar.gz")
    try:
        import twine  # noqa: F401
    except ImportError:
        need(False, "`twine` is not installed (pip install -e . --group dev installs it)")
    proc = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", str(wheel), str(sdist)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.slow
def test_the_wheel_holds_the_data_and_the_metadata(dist: Path) -> None:
    wheel = _one(dist, f"{STEM}-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        meta = zf.read(f"{STEM}-{__version__}.dist-info/METADATA").decode()
    missing = [d for d in DATA if d not in names]
    assert not missing, f"not in the wheel: {missing}"
    assert f"{STEM}-{__version__}.dist-info/licenses/LICENSE" in names
    assert not [n for n in names if "__pycache__" in n or n.startswith(("tests/", "schemas/"))]
    assert f"\nName: {PROJECT['name']}\n" in meta and f"\nVersion: {__version__}\n" in meta
    assert "\nLicense-Expression: Apache-2.0\n" in meta
    assert "\nProject-URL: Changelog, " in meta and "\nClassifier: " in meta
    with tarfile.open(_one(dist, f"{STEM}-*.tar.gz")) as tf:
        members = {m.name.split("/", 1)[-1] for m in tf.getmembers()}
    assert {"LICENSE", "README.md", "pyproject.toml", *DATA} <= members


@pytest.fixture(scope="module")
def installed(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel installed: its python."""
    where = tmp_path_factory.mktemp("venv") / "fresh"
    venv.EnvBuilder(with_pip=True).create(where)
    python = where / "bin" / "python"
    wheel = _one(dist, f"{STEM}-*.whl")
    proc = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(wheel)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return python


def _env() -> dict[str, str]:
    """Nothing of this checkout on the path: the venv's envlock runs."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}


def _sh(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", command],
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.slow
def test_the_readme_first_command_with_the_wheel(installed: Path, tmp_path: Path) -> None:
    """The README's install-and-doctor line, `pip install .` replaced by the wheel and
    .venv by the fresh venv: FAIL with EL-TORCH-MISSING (no torch there), exit 1."""
    install, _ = first_screen_commands()
    venv_dir = installed.parent.parent
    doctor = install.split(" && ")[-1].replace(".venv/", f"{venv_dir}/")
    assert doctor.endswith("/bin/envlock doctor"), doctor
    where = _sh(f"{venv_dir}/bin/python -c 'import envlock; print(envlock.__file__)'", tmp_path)
    assert where.stdout.startswith(str(venv_dir)), where.stdout + where.stderr
    proc = _sh(doctor + " --no-torch-live", tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stdout.startswith("FAIL") and "EL-TORCH-MISSING" in proc.stdout, proc.stdout
    version = _sh(f"{venv_dir}/bin/envlock --version", tmp_path).stdout
    assert PROJECT["name"] in version and str(venv_dir) in version, version


@pytest.mark.slow
def test_the_readme_commands_run_from_the_wheel(installed: Path, tmp_path: Path) -> None:
    """matrix (its TOML), explain (its messages), doctor's JSON against the schema the
    wheel ships, lock and verify from a facts file: all from the installed wheel."""
    bin_dir = installed.parent
    matrix = _sh(f'{bin_dir}/envlock matrix --gpu "RTX 5090" --driver 570.86', tmp_path)
    assert matrix.returncode == 0, matrix.stdout + matrix.stderr
    assert "newest that runs: torch" in matrix.stdout and "pip install" in matrix.stdout
    explain = _sh(f"{bin_dir}/envlock explain 137 --no-checks", tmp_path)
    assert explain.returncode == 0 and "OOM" in explain.stdout, explain.stdout + explain.stderr
    facts = FIXTURES / "facts.cpu-venv-nodriver.json"
    doctor = _sh(f"{bin_dir}/envlock doctor --facts {facts} --format json", tmp_path)
    assert doctor.returncode in (0, 1), doctor.stderr
    schema_path = _sh(
        f'{installed} -c "import importlib.resources as r; '
        "print(r.files('envlock') / 'schemas' / 'findings.schema.json')\"",
        tmp_path,
    ).stdout.strip()
    assert schema_path.startswith(str(installed.parent.parent)), schema_path
    import jsonschema

    jsonschema.validate(json.loads(doctor.stdout), json.loads(Path(schema_path).read_text()))
    lock = _sh(f"{bin_dir}/envlock lock --facts {facts} -o other.lock.toml", tmp_path)
    assert lock.returncode == 0, lock.stdout + lock.stderr
    verify = _sh(f"{bin_dir}/envlock verify other.lock.toml --facts {facts}", tmp_path)
    assert verify.returncode == 0, verify.stdout + verify.stderr


@pytest.mark.slow
def test_a_plain_install_leaves_the_docker_sdk_out(installed: Path, tmp_path: Path) -> None:
    """The SDK (and requests, urllib3, ...) is the [docker] extra: a daemon elsewhere, or a
    pull, without it is one line naming the extra, exit 3."""
    out = _sh(f"{installed} -m pip list --format=json", tmp_path).stdout
    names = {d["name"].lower() for d in json.loads(out)}
    assert not names & {"docker", "requests", "urllib3"}, names
    cmd = f"DOCKER_HOST=tcp://127.0.0.1:9 {installed.parent}/envlock probe --image busybox:1"
    proc = _sh(cmd, tmp_path)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert f"pip install '{PROJECT['name']}[docker]'" in line, line
