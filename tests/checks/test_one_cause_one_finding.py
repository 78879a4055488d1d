"""A GPU without kernels in the installed torch is one finding, not two (session 7 review,
helper X2, item b).

pytorch#150733 (RTX 5090 D, torch 2.6.0+cu126) and vllm#19741 (RTX 5090 beside a 3090 and a
4090, torch 2.7.0+cu126): EL-ARCH-UNSUPPORTED and EL-CUDNN-GPU-UNSUPPORTED both fired for
sm_120, the second with the same fix. The build's cuDNN not knowing the GPU is part of the
build not having its kernels: the arch finding says it, and cuDNN is a finding of its own
only for GPUs the build does have kernels for.
"""

from __future__ import annotations

import dataclasses

import pytest

from envlock.checks.registry import run_checks
from envlock.pasted import facts_from_texts
from tests.conftest import FIXTURES

CE = FIXTURES / "collect_env"


@pytest.mark.parametrize(
    "name",
    ["pytorch-150733.txt", "vllm-19741.txt", "vllm-20173.txt", "vllm-20922.txt", "sglang-6160.txt"],
)
def test_no_kernels_and_its_cudnn_are_one_finding(name: str) -> None:
    found = run_checks(facts_from_texts(collect_env=(CE / name).read_text()))
    ids = [f.check_id for f in found]
    assert "EL-ARCH-UNSUPPORTED" in ids, ids
    assert "EL-CUDNN-GPU-UNSUPPORTED" not in ids, [f.message for f in found]
    (arch,) = [f for f in found if f.check_id == "EL-ARCH-UNSUPPORTED"][:1]
    assert "cuDNN" in arch.message, arch.message  # the cuDNN side is still said, once


def test_cudnn_alone_still_fires_where_the_build_has_the_kernels() -> None:
    """A build whose kernels cover the GPU (PTX it JIT-compiles, its CUDA made 12.8, which
    knows sm_120: checks/ptxjit.py) while its cuDNN does not support it: that is the cuDNN
    finding's own case."""
    facts = facts_from_texts(collect_env=(CE / "pytorch-150733.txt").read_text())
    live = facts.torch.live
    assert live is not None
    # the paste's cuDNN 9.5.1 as the one torch loads (its CUDA no longer names a variant)
    live = dataclasses.replace(
        live, arch_flags=["sm_80", "sm_90", "compute_90"], cudnn_version="9.5.1"
    )
    found = run_checks(
        dataclasses.replace(facts, torch=dataclasses.replace(facts.torch, live=live, cuda="12.8"))
    )
    ids = [f.check_id for f in found]
    assert "EL-CUDNN-GPU-UNSUPPORTED" in ids and "EL-ARCH-UNSUPPORTED" not in ids, ids
