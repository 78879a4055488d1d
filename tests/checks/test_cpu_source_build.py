"""A source build compiled without CUDA is rebuilt, not only replaced (session 7 review,
helper X2).

pytorch#91973: torch 2.0.0a0+git7f2b5ea, built from source with 'CUDA used to build
PyTorch: Could not collect', beside an RTX 4080 and a conda environment holding
cudatoolkit and magma-cuda116 (a CUDA build was intended). The fix only named PyPI's 2.0
cu118 wheel; pip's own torch there is 1.13.1, another install, so the wheel may not even be
the torch that imports. The build's cause comes first: no CUDA toolkit found when it was
built.
"""

from __future__ import annotations

from envlock.checks.registry import run_checks
from envlock.pasted import facts_from_texts
from tests.conftest import FIXTURES

CE = FIXTURES / "collect_env"


def test_a_cpu_source_build_is_told_how_to_build_with_cuda() -> None:
    found = run_checks(facts_from_texts(collect_env=(CE / "pytorch-91973.txt").read_text()))
    (f,) = [f for f in found if f.check_id == "EL-TORCH-CPU-ONLY"]
    fix = f.fix or ""
    assert fix.startswith("rebuild it with CUDA"), fix
    assert "USE_CUDA" in fix and "CUDA_HOME" in fix, fix
    assert "download.pytorch.org/whl/cu118" in fix, fix  # the official build stays a road
    assert "source build" in f.message, f.message


def test_an_official_cpu_wheel_is_not_told_to_rebuild() -> None:
    found = run_checks(facts_from_texts(collect_env=(CE / "pytorch-122924.txt").read_text()))
    (f,) = [f for f in found if f.check_id == "EL-TORCH-CPU-ONLY"]
    assert "rebuild" not in (f.fix or ""), f.fix
