"""The suite on a real NVIDIA GPU (`-m gpu`); skipped where no GPU is visible to a CUDA torch."""

from __future__ import annotations

import subprocess
import sys
from functools import cache

import pytest

from envlock.determinism import CLASSES
from envlock.determinism.compare import compare, run_to_run_findings
from envlock.determinism.runner import run_suite
from tests.conftest import VENV_ROOT

pytestmark = pytest.mark.gpu


@cache
def _cuda_python() -> str | None:
    for py in (sys.executable, str(VENV_ROOT / "torch-cuda" / "bin" / "python")):
        try:
            proc = subprocess.run(
                [py, "-c", "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)"],
                capture_output=True,
                timeout=180,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        if proc.returncode == 0:
            return py
    return None


@pytest.fixture(scope="module")
def cuda_py() -> str:
    py = _cuda_python()
    if py is None:
        pytest.skip("no NVIDIA GPU visible to a CUDA build of torch")
    return py


def test_cuda_suite_is_identical_across_processes(cuda_py: str) -> None:
    first = run_suite(device="cuda", seed=0, python=cuda_py)
    second = run_suite(device="cuda", seed=0, python=cuda_py)
    assert first.device == "cuda" and list(first.classes) == list(CLASSES), first.failed
    ctx = first.context
    for key in ("gpu_name", "compute_capability", "sm_count", "driver", "cuda", "cudnn", "cublas"):
        assert ctx.get(key) not in (None, "", "unknown"), key
    assert run_to_run_findings(first) == []
    assert {k: v.digest for k, v in first.classes.items()} == {
        k: v.digest for k, v in second.classes.items()
    }
    assert compare(first, second) == []
    # Timing is reported, not asserted (benchmarks/determinism_speed.py measures it).
    print(
        f"\ncuda suite on {ctx['gpu_name']}: {first.seconds:.2f} s, {second.seconds:.2f} s "
        f"(per class: {', '.join(f'{k} {v.seconds:.3f}' for k, v in first.classes.items())})"
    )


def test_cuda_atomic_index_add_is_caught_run_to_run(
    cuda_py: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Genuine nondeterminism: float atomics with deterministic algorithms off.
    monkeypatch.setenv("ENVLOCK_DETERMINISM_PERTURB", "atomic-index-add")
    d = run_suite(device="cuda", seed=0, python=cuda_py)
    assert d.classes["reduction"].run_to_run_identical is False
    ids = {(f.check_id, f.field) for f in run_to_run_findings(d)}
    assert ("EL-DET-RUN-TO-RUN", "determinism.reduction") in ids
