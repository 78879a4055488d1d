"""preflight(), envlock run and the live-facts cache, in a real scratch virtualenv.

The scratch venv (torch 2.13.0 CPU + envlock) is changed by the tests:
torch is force-reinstalled and nvidia-ml-py (envlock's own requirement, which
a new envlock may bring in another version) is swapped for another version,
as a user upgrading envlock would: that is not the job's drift.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import IN_CI, REPO, clean_env, run_envlock

pytestmark = pytest.mark.venv

OTHER_NVML = "nvidia-ml-py==12.575.51"


def _pip(python: Path, *args: str) -> None:
    proc = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory, cpu_python: Path) -> Path:
    """A venv of its own: torch 2.13.0 (CPU, from local disk) + envlock's dependencies."""
    root = tmp_path_factory.mktemp("scratch")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    py = venv / "bin" / "python"
    try:
        _pip(py, "torch==2.13.0")
        _pip(py, "-e", str(REPO))
    except AssertionError:
        if IN_CI:
            raise
        pytest.skip("could not build the scratch venv here")
    return py


def _installed_nvml(python: Path) -> str:
    out = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('nvidia-ml-py'))"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.strip()
    assert out and out != OTHER_NVML.split("==")[1], "scratch venv already has the other version"
    return out


@contextlib.contextmanager
def _other_nvml(python: Path) -> Iterator[None]:
    """Swap nvidia-ml-py for another version, as a user upgrading a wheel would; restore it."""
    original = _installed_nvml(python)
    _pip(python, "--no-deps", OTHER_NVML)
    try:
        yield
    finally:
        _pip(python, "--no-deps", f"nvidia-ml-py=={original}")


def _run_script(
    python: Path, script: Path, lock: Path, cache: Path, **extra: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(python), str(script), str(lock)],
        capture_output=True,
        text=True,
        env=dict(_env(cache), **extra),
        timeout=300,
        check=False,
    )


def _env(cache: Path) -> dict[str, str]:
    return clean_env(ENVLOCK_CACHE_DIR=str(cache))


def _notes(proc: subprocess.CompletedProcess[str]) -> list[str]:
    return list(json.loads(proc.stdout)["details"]["probe_notes"])


@pytest.mark.slow
def test_cache_hit_then_invalidated_by_reinstalls(scratch: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    lock = tmp_path / "envlock.lock.toml"
    assert run_envlock(["lock", "-o", str(lock)], python=scratch, env=_env(cache)).returncode == 0
    verify = ["verify", str(lock), "--format", "json"]
    first = run_envlock(verify, python=scratch, env=_env(cache))
    assert first.returncode == 0, first.stdout + first.stderr
    assert "torch live facts probed (cache miss)" in _notes(first)
    second = run_envlock(verify, python=scratch, env=_env(cache))
    assert second.returncode == 0
    assert "torch live facts from cache" in _notes(second)

    # Reinstalling torch (same version, new files) invalidates the entry.
    _pip(scratch, "--force-reinstall", "--no-deps", "torch==2.13.0")
    third = run_envlock(verify, python=scratch, env=_env(cache))
    assert "torch live facts probed (cache miss)" in _notes(third)
    assert "torch live facts from cache" in _notes(
        run_envlock(verify, python=scratch, env=_env(cache))
    )

    # So does another nvidia-* wheel; this one is envlock's own requirement (upgrading
    # envlock brings it), not the job's: no drift.
    with _other_nvml(scratch):
        fourth = run_envlock(verify, python=scratch, env=_env(cache))
        assert fourth.returncode == 0, fourth.stdout
        assert "torch live facts probed (cache miss)" in _notes(fourth)
        fields = {f.get("field") for f in json.loads(fourth.stdout)["findings"]}
        assert "packages.nvidia-ml-py" not in fields


PREFLIGHT_SCRIPT = """
import sys
import envlock
try:
    report = envlock.preflight(sys.argv[1])
except envlock.EnvironmentDriftError as exc:
    print(exc)
    assert "torch" not in sys.modules, "preflight imported torch in the caller"
    sys.exit(1)
assert "torch" not in sys.modules, "preflight imported torch in the caller"
print("preflight ok:", report.details["lock"])
"""


@pytest.mark.slow
def test_preflight_passes_then_fails_after_the_venv_changes(scratch: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    lock = tmp_path / "envlock.lock.toml"
    script = tmp_path / "train.py"
    script.write_text(PREFLIGHT_SCRIPT)
    assert run_envlock(["lock", "-o", str(lock)], python=scratch, env=_env(cache)).returncode == 0
    ok = _run_script(scratch, script, lock, cache)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "preflight ok" in ok.stdout
    # upgrading envlock's own nvidia-ml-py is not the job's drift
    with _other_nvml(scratch):
        still = _run_script(scratch, script, lock, cache)
        assert still.returncode == 0, still.stdout + still.stderr
    # a variable that changes what cuBLAS computes is
    bad = _run_script(scratch, script, lock, cache, CUBLAS_WORKSPACE_CONFIG=":16:8")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "envlock pre-flight failed" in bad.stdout
    assert "env.CUBLAS_WORKSPACE_CONFIG" in bad.stdout


@pytest.mark.slow
def test_envlock_run_execs_on_pass_and_refuses_on_drift(scratch: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    lock = tmp_path / "envlock.lock.toml"
    assert run_envlock(["lock", "-o", str(lock)], python=scratch, env=_env(cache)).returncode == 0
    # exit code passes through
    proc = run_envlock(
        ["run", "--lock", str(lock), "--", str(scratch), "-c", "import sys; sys.exit(7)"],
        python=scratch,
        env=_env(cache),
    )
    assert proc.returncode == 7, proc.stderr
    # a signal passes through: the shell kills itself with SIGTERM
    proc = run_envlock(
        ["run", "--lock", str(lock), "--", "sh", "-c", "kill -TERM $$"],
        python=scratch,
        env=_env(cache),
    )
    assert proc.returncode == -15
    marker = tmp_path / "ran"
    cmd = ["--", "sh", "-c", f"touch {marker}"]
    drift_env = dict(_env(cache), CUBLAS_WORKSPACE_CONFIG=":16:8")
    proc = run_envlock(["run", "--lock", str(lock), *cmd], python=scratch, env=drift_env)
    assert proc.returncode == 1 and not marker.exists()
    assert "env.CUBLAS_WORKSPACE_CONFIG" in proc.stderr and "not running the command" in proc.stderr
    proc = run_envlock(
        ["run", "--lock", str(lock), "--warn-only", *cmd], python=scratch, env=drift_env
    )
    assert proc.returncode == 0 and marker.exists()
    proc = run_envlock(["run", "--lock", str(lock)], python=scratch, env=_env(cache))
    assert proc.returncode == 2 and "no command given" in proc.stderr


NO_CONTEXT_SCRIPT = """
import sys
import envlock.api
report = envlock.api.check(sys.argv[1], doctor=False)
assert "torch" not in sys.modules, "check() imported torch in the caller"
import torch
assert torch.cuda.is_initialized() is False
print("verdict", "fail" if report.failed else "pass", "no CUDA context")
"""


def test_preflight_creates_no_cuda_context_in_the_caller(cuda_python: Path, tmp_path: Path) -> None:
    lock = tmp_path / "envlock.lock.toml"
    cache = tmp_path / "cache"
    assert (
        run_envlock(["lock", "-o", str(lock)], python=cuda_python, env=_env(cache)).returncode == 0
    )
    script = tmp_path / "train.py"
    script.write_text(NO_CONTEXT_SCRIPT)
    proc = _run_script(cuda_python, script, lock, cache)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "verdict pass no CUDA context" in proc.stdout
