"""Shared test fixtures.

The torch virtualenvs and the Docker engine are provisioned by .ci/run.
Outside CI a test that needs a missing one is skipped; under CI=true it fails,
because a skipped integration test there would hide a broken provisioning step.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
VENV_ROOT = Path(os.environ.get("ENVLOCK_TEST_VENVS", Path.home() / ".cache/envlock-test/venvs"))
IN_CI = os.environ.get("CI", "").lower() == "true"
# `envlock matrix` confirms its wheel on download.pytorch.org; the suite reaches no index
# but its own fakes: a closed loopback port, so the check is the offline note at once
os.environ.setdefault("ENVLOCK_TORCH_INDEX", "http://127.0.0.1:9/whl/")


def need(condition: bool, why: str) -> None:
    """Skip locally, fail under CI, when an integration prerequisite is missing."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI=true but {why} (.ci/run should have provisioned it)")
    pytest.skip(why)


def _venv_python(name: str) -> Path:
    py = VENV_ROOT / name / "bin" / "python"
    need(py.exists(), f"test virtualenv {py.parent.parent} is missing")
    return py


@pytest.fixture(scope="session")
def cpu_python() -> Path:
    """Python of the venv with torch==2.13.0 (CPU build)."""
    return _venv_python("torch-cpu")


@pytest.fixture(scope="session")
def cuda_python() -> Path:
    """Python of the venv with torch==2.14.1 (CUDA 13.0 build; no driver here)."""
    return _venv_python("torch-cuda")


def clean_env(**extra: str) -> dict[str, str]:
    """The environment for a child envlock: this checkout first on the path (then what
    PYTHONPATH held: the GPU kit puts the dependencies it installs offline there)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_"))}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)
    env.update(extra)
    return env


def run_envlock(
    args: Sequence[str],
    *,
    python: Path | str = sys.executable,
    env: dict[str, str] | None = None,
    cwd: Path | str | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a subprocess (`python -m envlock ARGS`)."""
    return subprocess.run(
        [str(python), "-m", "envlock", *args],
        capture_output=True,
        text=True,
        env=env if env is not None else clean_env(),
        cwd=cwd,
        timeout=timeout,
        check=False,
    )


def load_fixture_json(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())
