"""EL-WHEELS-MIXED-CUDA on a pasted report (session 7 review, helper X2).

A paste lists package versions, never what requires them: vllm#44335's
nvidia-cutlass-dsl-libs-cu13 (pulled in by nvidia-cutlass-dsl, which vLLM's kernels use)
was called "required by no installed package" and given a bare `pip uninstall`. Where the
facts did not read Requires-Dist the finding says so and every removal waits for `pip show`.
vllm#18580's eleven cu11/cu12 pairs were eleven copies of one sentence and eleven chained
uninstall/reinstall pairs: one sentence, one uninstall, one reinstall.
"""

from __future__ import annotations

from envlock.checks.registry import run_checks
from envlock.findings import Finding
from envlock.pasted import facts_from_texts
from tests.conftest import FIXTURES

CE = FIXTURES / "collect_env"


def _mixed(name: str) -> Finding:
    found = run_checks(facts_from_texts(collect_env=(CE / name).read_text()))
    (f,) = [f for f in found if f.check_id == "EL-WHEELS-MIXED-CUDA"]
    return f


def test_a_paste_does_not_claim_nothing_requires_a_wheel() -> None:
    f = _mixed("vllm-44335.txt")
    assert "no installed package" not in f.message + (f.fix or ""), (f.message, f.fix)
    assert "pip show nvidia-cutlass-dsl-libs-cu13" in (f.fix or ""), f.fix


def test_eleven_clashing_pairs_are_one_sentence_and_two_commands() -> None:
    f = _mixed("vllm-18580.txt")
    assert f.message.count("install the same") == 1, f.message
    fix = f.fix or ""
    assert fix.count("pip uninstall") <= 2 and fix.count("--force-reinstall") == 1, fix
    assert "nvidia-cudnn-cu12" in fix and "nvidia-cudnn-cu11==9.1.0.70" in fix, fix
    assert "no installed package" not in f.message + fix, f.message
