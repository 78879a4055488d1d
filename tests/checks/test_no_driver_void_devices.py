"""EL-NO-DRIVER names the variable that hid the GPUs (session 7 review, helper X2).

vllm#16061 ran vLLM's image with NVIDIA_VISIBLE_DEVICES=void, which the NVIDIA container
runtime reads as "give this container no GPU" (what Kubernetes' device plugin sets for a
pod that requests no nvidia.com/gpu): the fix said only "start it with --gpus all".
"""

from __future__ import annotations

from envlock.checks.registry import run_checks
from envlock.pasted import facts_from_texts
from tests.conftest import FIXTURES

CE = FIXTURES / "collect_env"


def test_void_visible_devices_is_named_with_its_road() -> None:
    found = run_checks(facts_from_texts(collect_env=(CE / "vllm-16061.txt").read_text()))
    (f,) = [f for f in found if f.check_id == "EL-NO-DRIVER"]
    fix = f.fix or ""
    assert fix.startswith("NVIDIA_VISIBLE_DEVICES=void"), fix
    assert "nvidia.com/gpu" in fix and "--gpus all" in fix, fix
    assert "keep it" in fix, fix  # vLLM's CUDA torch stays


def test_without_the_variable_the_fix_is_as_it_was() -> None:
    found = run_checks(facts_from_texts(collect_env=(CE / "vllm-8885.txt").read_text()))
    (f,) = [f for f in found if f.check_id == "EL-NO-DRIVER"]
    assert "NVIDIA_VISIBLE_DEVICES" not in (f.fix or ""), f.fix
