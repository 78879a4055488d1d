"""The family classes batch issue21-s4b's tuning reports showed (never the held-out part):
nightly pairs and a vendor's source-built torchvision are not judged by the release table
(matrix/family.toml knows releases only), each on the real report and on a variant where
the rule must still fire."""

from __future__ import annotations

from envlock.checks import run_checks
from envlock.findings import Finding
from envlock.pasted import facts_from_texts
from tests.conftest import REPO

TUNING = REPO / "tests" / "fixtures" / "collect_env"


def _family(text: str) -> list[Finding]:
    facts = facts_from_texts(collect_env=text)
    return [f for f in run_checks(facts) if f.check_id == "EL-FAMILY-MISMATCH"]


def test_rocm_nightly_pair_of_one_date_is_no_mismatch() -> None:
    """vllm#11249: torch 2.6.0.dev20241113+rocm6.2 beside torchvision
    0.20.0.dev20241113+rocm6.2, the pair the nightly index publishes for that date."""
    assert _family((TUNING / "vllm-11249.txt").read_text()) == []


def test_tpu_nightly_cpu_pair_of_one_date_is_no_mismatch() -> None:
    """vllm#12179: torch 2.6.0.dev20241126+cpu and torchvision 0.20.0.dev20241126+cpu
    beside torch-xla (vLLM's TPU image)."""
    assert _family((TUNING / "vllm-12179.txt").read_text()) == []


def test_nightlies_of_different_dates_still_mismatch() -> None:
    """The same report with torchvision from another night: not the published pair."""
    text = (TUNING / "vllm-11249.txt").read_text()
    text = text.replace("torchvision==0.20.0.dev20241113", "torchvision==0.20.0.dev20241020")
    found = _family(text)
    assert [f.evidence["package"] for f in found] == ["torchvision"]
    assert "20241020" in found[0].message and "20241113" in found[0].message


def test_vendor_source_built_torchvision_is_not_judged_by_the_release_table() -> None:
    """vllm#8318, vLLM's TPU image: torch 2.5.0 with torch-xla and torchvision
    0.19.0a0+d23a6e1, a source build at the commit the XLA image pins, compiled against
    the torch beside it; the release table (0.20 for torch 2.5) does not describe it."""
    assert _family((TUNING / "vllm-8318.txt").read_text()) == []


def test_released_torchvision_of_another_release_still_mismatches_on_that_report() -> None:
    """The same report with PyPI's torchvision 0.19.0: the table's mismatch, as before."""
    text = (TUNING / "vllm-8318.txt").read_text()
    text = text.replace("torchvision==0.19.0a0+d23a6e1", "torchvision==0.19.0")
    assert [f.evidence["package"] for f in _family(text)] == ["torchvision"]


def test_torchs_own_arch_list_is_a_cuda_build_without_its_cuda_line() -> None:
    """vllm#21633, torch's sm_120 warning from a compose log and nothing else: the list
    torch printed (sm_50 ... sm_90) is a CUDA build's, so the RTX 5070 Ti has no kernels."""
    facts = facts_from_texts(collect_env=(TUNING / "vllm-21633.txt").read_text())
    found = [f for f in run_checks(facts) if f.check_id == "EL-ARCH-UNSUPPORTED"]
    assert len(found) == 1
    assert "RTX 5070 Ti" in found[0].message and "the installed torch" in found[0].message
