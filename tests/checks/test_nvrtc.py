"""EL-ARCH-NVRTC-UNSUPPORTED on real pasted reports (tests/fixtures/collect_env): torch's
runtime compiler asked for an architecture its CUDA's NVRTC does not know, by torch's own cap
table (envlock/checks/nvrtc.py: pytorch#48151 in 1.7.1, #87611 in 1.13.0). Fires on torch
1.7.0 cu110 beside an RTX 3090 (pytorch#48200) and torch 1.12.1+cu113 on an RTX 4090
(vllm#3771's paste, pytorch#87595's class); quiet where the release caps the architecture,
where the CUDA knows the GPU, and on the GPU beside it that NVRTC knows."""

from __future__ import annotations

import dataclasses

import pytest

from envlock.checks import run_checks
from envlock.checks.nvrtc import jit_arch
from envlock.facts import Facts
from envlock.findings import Finding, Severity
from envlock.matrix import Version
from envlock.pasted import facts_from_texts
from tests.conftest import FIXTURES
from tests.facts_builders import edit

CE = FIXTURES / "collect_env"
ID = "EL-ARCH-NVRTC-UNSUPPORTED"


def _paste(name: str) -> Facts:
    return facts_from_texts(collect_env=(CE / name).read_text())


def _torch(facts: Facts, version: str, cuda: str) -> Facts:
    build = "cu" + cuda.replace(".", "")
    return edit(
        facts, "torch", dataclasses.replace(facts.torch, version=version, cuda=cuda, build=build)
    )


def _found(facts: Facts) -> list[Finding]:
    return [f for f in run_checks(facts) if f.check_id == ID]


def test_torch_1_7_0_cu110_on_an_rtx_3090_asks_nvrtc_11_0_for_sm_86() -> None:
    (f,) = _found(_paste("pytorch-48200.txt"))
    assert f.severity is Severity.WARNING
    assert "compute_86" in f.message and "CUDA 11.0's NVRTC" in f.message
    # the RTX 2080 Ti beside it (7.5) is one NVRTC 11.0 knows
    assert f.evidence["gpu.compute_capability"] == {"0": "8.6"}
    assert "torch 1.7.1 caps it at compute_80" in f.message
    # the fix: the nearest official build whose NVRTC knows sm_86, re-checked below
    (road,) = f.evidence["fix.roads"]
    assert (road["torch"], road["variant"]) == ("1.8", "cu111")
    assert f.fix is not None and "CUDA 11.1's NVRTC knows compute_86" in f.fix


def test_following_the_fix_clears_it() -> None:
    facts = _torch(_paste("pytorch-48200.txt"), "1.8.1+cu111", "11.1")
    assert _found(facts) == []


def test_torch_1_7_1_caps_nvrtc_11_0_at_sm_80() -> None:
    assert _found(_torch(_paste("pytorch-48200.txt"), "1.7.1", "11.0")) == []


def test_torch_1_12_cu113_on_an_rtx_4090_asks_for_sm_89() -> None:
    (f,) = _found(_paste("vllm-3771.txt"))
    assert "compute_89" in f.message and "CUDA 11.3's NVRTC" in f.message
    # a warning: eager kernels run (the report is healthy for its job, corpus 'fine')
    assert f.severity is Severity.WARNING


@pytest.mark.parametrize(
    ("version", "cuda"),
    [
        ("1.13.1+cu117", "11.7"),  # 1.13 caps NVRTC 11.1-11.7 at 8.6 (pytorch#87611)
        ("2.0.1+cu118", "11.8"),  # CUDA 11.8's NVRTC knows sm_89
    ],
)
def test_quiet_where_the_release_caps_it_or_the_cuda_knows_the_gpu(version: str, cuda: str) -> None:
    assert _found(_torch(_paste("vllm-3771.txt"), version, cuda)) == []


def test_quiet_where_nvrtc_10_or_older_is_capped() -> None:
    # torch 1.1.0 with CUDA 9.0 on an RTX 2060: torch caps NVRTC 9 at 7.2
    assert _found(_paste("torch-points3d-66.txt")) == []


@pytest.mark.parametrize(
    ("torch", "nvrtc", "gpu", "arch"),
    [
        ("1.7.0", "11.0", "8.6", "8.6"),
        ("1.7.1", "11.0", "8.6", "8.0"),
        ("1.12.1", "11.3", "8.9", "8.9"),
        ("1.13.0", "11.3", "8.9", "8.6"),
        ("1.13.0", "11.8", "8.9", "8.9"),
        ("1.4.0", "10.1", "8.6", "7.5"),
        ("1.4.0", "10.1", "7.0", "7.0"),
    ],
)
def test_the_architecture_torch_asks_for(torch: str, nvrtc: str, gpu: str, arch: str) -> None:
    assert jit_arch(
        Version.parse(torch), Version.parse(nvrtc), Version.parse(gpu)
    ) == Version.parse(arch)
