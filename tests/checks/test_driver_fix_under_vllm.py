"""A driver finding's build road is not offered under vLLM (session 6 review, helper X).

vLLM's wheel is compiled against one torch build (its release and CUDA): vllm#11931's
vLLM 0.6.6 with torch 2.5.1+cu124 on driver 525 was offered torch 2.5's cu118 beside the
driver upgrade; pip would put CUDA 11 wheels under a vllm._C that links libcudart.so.12.
Where a driver upgrade exists it is the road; the fix says why the build stays.
"""

from __future__ import annotations

from envlock.checks.registry import run_checks
from envlock.facts import Facts
from envlock.findings import Finding
from envlock.pasted import facts_from_texts
from tests.conftest import FIXTURES
from tests.facts_builders import edit

CE = FIXTURES / "collect_env"


def _finding(facts: Facts, check_id: str) -> Finding:
    (f,) = [f for f in run_checks(facts) if f.check_id == check_id]
    return f


def test_minor_compat_under_vllm_offers_the_driver_only() -> None:
    facts = facts_from_texts(collect_env=(CE / "vllm-11931.txt").read_text())
    f = _finding(facts, "EL-DRIVER-MINOR-COMPAT")
    assert "pip install" not in (f.fix or ""), f.fix
    assert all("driver_at_least" in r for r in f.evidence["fix.roads"]), f.evidence
    assert "vllm 0.6.6" in (f.fix or "") and (f.fix or "").startswith("upgrade the NVIDIA driver")


def test_too_old_under_vllm_offers_the_driver_only() -> None:
    """espnet#5556's torch 2.1.0+cu121 on a CUDA 11.7 driver, with vLLM 0.2.7 beside it."""
    facts = facts_from_texts(collect_env=(CE / "espnet-5556.txt").read_text())
    dists = {**facts.packages.distributions, "vllm": "0.2.7"}
    facts = edit(facts, "packages.distributions", dists)
    f = _finding(facts, "EL-DRIVER-TOO-OLD")
    assert "pip install" not in (f.fix or ""), f.fix
    assert all("driver_at_least" in r for r in f.evidence["fix.roads"]), f.evidence
    assert "vllm 0.2.7" in (f.fix or ""), f.fix
    # without vLLM the same paste keeps its cheaper build road first
    plain = _finding(
        facts_from_texts(collect_env=(CE / "espnet-5556.txt").read_text()), "EL-DRIVER-TOO-OLD"
    )
    assert (plain.fix or "").startswith("install torch built for an older CUDA"), plain.fix
