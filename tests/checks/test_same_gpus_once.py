"""Identical GPUs without kernels are one finding (session 7 review, helper X2).

sglang#6160 (four RTX 5090, torch 2.7.0+cu126) printed EL-ARCH-UNSUPPORTED four times,
GPU 0 to GPU 3, with the same message and the same fix: an eight-GPU node printed eight.
One finding names the GPUs it is about.
"""

from __future__ import annotations

from envlock.checks.registry import run_checks
from envlock.pasted import facts_from_texts
from tests.conftest import FIXTURES

CE = FIXTURES / "collect_env"


def test_four_identical_gpus_are_one_finding() -> None:
    found = run_checks(facts_from_texts(collect_env=(CE / "sglang-6160.txt").read_text()))
    arch = [f for f in found if f.check_id == "EL-ARCH-UNSUPPORTED"]
    assert len(arch) == 1, [f.message for f in arch]
    assert arch[0].message.startswith("GPUs 0, 1, 2, 3 (NVIDIA GeForce RTX 5090"), arch[0].message
    assert arch[0].evidence["gpu.indices"] == [0, 1, 2, 3]


def test_other_models_keep_their_own_finding() -> None:
    """vllm#19741: an RTX 3090 and 4090 run torch 2.7 cu126; the 5090 does not."""
    found = run_checks(facts_from_texts(collect_env=(CE / "vllm-19741.txt").read_text()))
    arch = [f for f in found if f.check_id == "EL-ARCH-UNSUPPORTED"]
    assert len(arch) == 1 and "RTX 5090" in arch[0].message, [f.message for f in arch]


def test_identical_gpus_run_through_ptx_in_one_finding() -> None:
    """The same for EL-ARCH-PTX-ONLY: four RTX 5090 under a build whose list ends at
    compute_90 PTX (sglang#6160's GPUs with the live arch flags edited, and its torch's CUDA
    12.6 made 12.8: PTX JIT serves only an arch torch's CUDA knew, checks/ptxjit.py)."""
    import dataclasses

    facts = facts_from_texts(collect_env=(CE / "sglang-6160.txt").read_text())
    live = facts.torch.live
    assert live is not None
    live = dataclasses.replace(live, arch_flags=["sm_80", "sm_90", "compute_90"])
    torch = dataclasses.replace(facts.torch, live=live, cuda="12.8", version="2.7.0+cu128")
    facts = dataclasses.replace(facts, torch=torch)
    ptx = [f for f in run_checks(facts) if f.check_id == "EL-ARCH-PTX-ONLY"]
    assert len(ptx) == 1 and ptx[0].message.startswith("GPUs 0, 1, 2, 3 ("), [
        f.message for f in ptx
    ]
