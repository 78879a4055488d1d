"""EL-GPU-MIXED-MODELS does not count a GPU name cut short as another model (session 6
review, helper X): espnet#5556's excerpt ends in "GPU 2: Tesla V100-SXM", a third V100-SXM2-
32GB cut mid-line, and the doctor warned that the machine mixes GPU models. A name that
begins another GPU's name, at the same compute capability, is that model; two models of
one architecture and different names (an A100 40GB beside an 80GB) still are two."""

from __future__ import annotations

from envlock.checks.registry import run_checks
from envlock.pasted import facts_from_texts
from tests.conftest import FIXTURES

CE = FIXTURES / "collect_env"


def test_a_cut_name_is_not_another_model() -> None:
    found = run_checks(facts_from_texts(collect_env=(CE / "espnet-5556.txt").read_text()))
    assert "EL-GPU-MIXED-MODELS" not in {f.check_id for f in found}


def test_real_mixed_models_still_warn() -> None:
    found = run_checks(facts_from_texts(collect_env=(CE / "vllm-19741.txt").read_text()))
    assert "EL-GPU-MIXED-MODELS" in {f.check_id for f in found}  # 5090, 4090, 3090
