"""A build named with the driver unknown says the driver it needs (session 7 review,
helper X2).

vllm#21633 (an RTX 5070 Ti in vLLM's container, a compose log of torch's sm_120 warning: no
driver line) was told `pip install "torch==2.14.*" --index-url .../cu132  (torch 2.14
cu132)`: a CUDA 13.2 build, which no driver before 580.65.06 runs; the report does not say
which driver the machine has, so the fix must.
"""

from __future__ import annotations

from envlock.checks.registry import run_checks
from envlock.pasted import facts_from_texts
from tests.conftest import FIXTURES

CE = FIXTURES / "collect_env"


def _fix(name: str, check_id: str) -> str:
    found = run_checks(facts_from_texts(collect_env=(CE / name).read_text()))
    return next(f.fix or "" for f in found if f.check_id == check_id)


def test_a_road_for_an_unknown_driver_names_the_driver_it_needs() -> None:
    fix = _fix("vllm-21633.txt", "EL-ARCH-UNSUPPORTED")
    assert "cu132" in fix and "needs an NVIDIA driver >= 580.65.06" in fix, fix


def test_a_road_for_a_known_driver_says_nothing_more() -> None:
    fix = _fix("pytorch-150733.txt", "EL-ARCH-UNSUPPORTED")
    assert "needs an NVIDIA driver" not in fix, fix
