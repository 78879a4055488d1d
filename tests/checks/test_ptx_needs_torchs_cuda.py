"""PTX JIT saves only a GPU whose architecture torch's CUDA already knew (session 7's held-out
miss detectron2-3076, helper C10).

detectron2#3076 holds only torch's own warning: "GeForce RTX 3090 with CUDA capability sm_86
is not compatible ... supports CUDA capabilities sm_37 sm_50 sm_60 sm_61 sm_70 sm_75
compute_37", no torch version and no CUDA line. envlock said EL-ARCH-PTX-ONLY ("the driver
JIT-compiles compute_37 PTX"), but a build whose CUDA predates sm_86 (CUDA 11.1) has no
cuBLAS/cuDNN kernels for it, PTX or not (as pytorch-150733's 2.6 cu126 on an RTX 5090).
Where torch's CUDA is not in the text, the arch list bounds it: the official builds with
exactly this list are the matrix's facts. The GPU's name is read without the Markdown bold
around the pasted line, and a message never says 'torch None'.
"""

from __future__ import annotations

import dataclasses

from envlock.checks.registry import run_checks
from envlock.checks.triage import top_finding
from envlock.findings import Finding
from envlock.pasted import facts_from_texts
from tests.conftest import FIXTURES

CE = FIXTURES / "collect_env"
TEXT = (CE / "detectron2-3076.txt").read_text()


def _found(text: str) -> list[Finding]:
    return run_checks(facts_from_texts(collect_env=text))


def test_3076_a_cuda_10_era_list_cannot_serve_sm_86_through_ptx() -> None:
    found = _found(TEXT)
    ids = [f.check_id for f in found]
    assert "EL-ARCH-PTX-ONLY" not in ids, ids
    top = top_finding(found)
    assert top is not None and top.check_id == "EL-ARCH-UNSUPPORTED", ids
    assert "CUDA 11.1" in top.message and "compute_37" in top.message, top.message
    assert "CUDA 10.2" in top.message, top.message  # the newest official build with the list


def test_the_gpu_name_is_read_without_markdown_bold() -> None:
    facts = facts_from_texts(collect_env=TEXT)
    assert [g.name for g in facts.driver.gpus] == ["GeForce RTX 3090"]


def test_no_message_names_an_unknown_torch_as_none() -> None:
    for f in _found(TEXT):
        assert "torch None" not in f.message, f.message


def test_a_known_cuda_too_old_for_the_arch_is_no_ptx_road() -> None:
    """torch's CUDA in the text: 10.2 predates sm_86, so compute_37 PTX saves nothing."""
    text = TEXT.replace(
        "## Environment:", "PyTorch version: 1.6.0+cu102\nCUDA used to build PyTorch: 10.2\n"
    )
    ids = [f.check_id for f in _found(text)]
    assert "EL-ARCH-UNSUPPORTED" in ids and "EL-ARCH-PTX-ONLY" not in ids, ids


def test_a_cuda_that_knows_the_arch_still_runs_through_ptx() -> None:
    """sglang#6160's RTX 5090s (sm_120) under a build edited to end at compute_90 PTX: with
    CUDA 12.8, which knows sm_120, the driver's JIT serves them (EL-ARCH-PTX-ONLY, a
    warning); with the paste's own CUDA 12.6, which does not, nothing does."""
    facts = facts_from_texts(collect_env=(CE / "sglang-6160.txt").read_text())
    assert facts.torch.cuda == "12.6"
    live = facts.torch.live
    assert live is not None
    live = dataclasses.replace(live, arch_flags=["sm_80", "sm_90", "compute_90"])
    older = dataclasses.replace(facts, torch=dataclasses.replace(facts.torch, live=live))
    ids = [f.check_id for f in run_checks(older)]
    assert "EL-ARCH-UNSUPPORTED" in ids and "EL-ARCH-PTX-ONLY" not in ids, ids
    torch = dataclasses.replace(older.torch, cuda="12.8", version="2.7.0+cu128", build="cu128")
    ids = [f.check_id for f in run_checks(dataclasses.replace(older, torch=torch))]
    assert "EL-ARCH-PTX-ONLY" in ids and "EL-ARCH-UNSUPPORTED" not in ids, ids
