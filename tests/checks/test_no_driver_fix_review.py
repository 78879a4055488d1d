"""EL-NO-DRIVER's fix as a CUDA expert reads it (session 6 review, helper X).

A pasted report cannot say whether it came from a container, and a container started
without --gpus (or without the NVIDIA Container Toolkit) is the commonest way to a CUDA
torch with no driver (vllm#14433, vllm#16061: vLLM's images): the fix says so. The CPU
wheel is no road where vLLM is installed: its kernels need torch's CUDA build, and a
CPU torch under it fails at import (vllm._C links libtorch_cuda).
"""

from __future__ import annotations

import pytest

from envlock.checks.registry import run_checks
from envlock.pasted import facts_from_texts
from tests.conftest import FIXTURES

CE = FIXTURES / "collect_env"


def _fix(name: str) -> str:
    found = run_checks(facts_from_texts(collect_env=(CE / name).read_text()))
    (f,) = [f for f in found if f.check_id == "EL-NO-DRIVER"]
    return f.fix or ""


@pytest.mark.parametrize("name", ["vllm-14433.txt", "vllm-16061.txt"])
def test_vllm_gets_no_cpu_wheel(name: str) -> None:
    fix = _fix(name)
    assert "whl/cpu" not in fix and "vLLM" in fix, fix


@pytest.mark.parametrize("name", ["vllm-14433.txt", "pytorch-74733.txt", "vllm-4858.txt"])
def test_the_container_road_is_named(name: str) -> None:
    assert "--gpus all" in _fix(name)


def test_plain_torch_still_gets_the_cpu_wheel() -> None:
    # torch 1.7's CPU wheel as pytorch.org's page installs it (matrix/indexes.toml)
    fix = _fix("pytorch-74733.txt")
    assert '"torch==1.7.1+cpu" -f https://download.pytorch.org/whl/torch_stable.html' in fix
