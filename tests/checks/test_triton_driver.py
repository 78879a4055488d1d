"""EL-TRITON-DRIVER-TOO-OLD on real reports and real facts (matrix/triton.toml).

Triton assembles its kernels with the ptxas bundled in its wheel (CUDA 12 for every Triton
torch 2.0-2.14 pins; CUDA 13 for Blackwell from Triton 3.7): a driver older than that
major's floor cannot load them, though a cu11x torch runs on it.
"""

from __future__ import annotations

from envlock.checks.registry import run_checks
from envlock.checks.triage import top_finding
from envlock.facts import Facts
from envlock.findings import Finding, Severity
from envlock.matrix import Version
from envlock.pasted import facts_from_texts
from tests.checks.test_checks import _driver, _torch
from tests.conftest import FIXTURES
from tests.facts_builders import edit, gpu, h100_host, with_gpus

ID = "EL-TRITON-DRIVER-TOO-OLD"
CE = FIXTURES / "collect_env"


def _pasted(name: str) -> Facts:
    return facts_from_texts(collect_env=(CE / name).read_text())


def _found(facts: Facts) -> list[Finding]:
    return [f for f in run_checks(facts) if f.check_id == ID]


def test_vllm_18580_triton_3_2_on_driver_520_is_the_top_error() -> None:
    """vLLM 0.8.5 (V1: torch.compile on every launch), torch 2.6.0+cu118, triton 3.2.0
    (ptxas 12.4.99) on driver 520.61.05: every Triton kernel fails to load."""
    facts = _pasted("vllm-18580.txt")
    (f,) = _found(facts)
    assert f.severity is Severity.ERROR
    assert "ptxas from CUDA 12.4.99" in f.message and "520.61.05" in f.message
    assert "vllm 0.8.5.post1" in f.message
    assert f.fix == (
        "upgrade the NVIDIA driver to >= 525.60.13 (any CUDA 12 driver loads the kernels "
        "of Triton 3.2's ptxas 12.4.99); torch's build can stay"
    )
    assert f.evidence["fix.roads"] == [{"driver_at_least": "525.60.13"}]
    top = top_finding(run_checks(facts))
    assert top is not None and top.check_id == ID


def test_vllm_6099_triton_2_3_on_driver_470_is_stated_as_a_warning() -> None:
    """vLLM 0.4.2 runs Triton only for some features (the thread's prefix caching), which
    the report does not show: a warning, and the family error keeps the top by severity."""
    facts = _pasted("vllm-6099.txt")
    (f,) = _found(facts)
    assert f.severity is Severity.WARNING
    assert "Triton 2.3.0" in f.message and "ptxas from CUDA 12.3.52" in f.message
    assert f.evidence["driver.version"] == "470.103.01"


def test_a_healthy_cu121_report_on_driver_535_does_not_fire() -> None:
    """vllm-8990: torch 2.4.0+cu121, triton 3.0.0 on an A100 with driver 535.54.03."""
    facts = _pasted("vllm-8990.txt")
    assert facts.driver.version == "535.54.03"
    assert not _found(facts)


def test_a_healthy_cu118_report_on_535_does_not_fire_and_on_520_does() -> None:
    """vllm-12168: torch 2.5.1+cu118 and triton 3.1.0 on driver 535.129.03 (healthy); the same
    report with the driver of vllm-18580 (520.61.05, CUDA 11.8) fires."""
    facts = _pasted("vllm-12168.txt")
    assert facts.torch.version == "2.5.1+cu118" and facts.packages.distributions["triton"]
    assert not _found(facts)
    (f,) = _found(edit(facts, "driver.version", "520.61.05"))
    assert "Triton 3.1.0" in f.message and ">= 525.60.13" in (f.fix or "")


def test_torch_pin_is_used_when_the_report_lists_no_packages() -> None:
    """vllm-4812: a flattened paste cut before its library list, torch 2.1.0+cu118 on driver
    520.61.05: the Triton torch 2.1 pins (2.1, ptxas 12.1.105) is implied, a warning."""
    facts = _pasted("vllm-4812.txt")
    assert facts.packages.unavailable is not None
    (f,) = _found(facts)
    assert f.severity is Severity.WARNING
    assert f.evidence["triton.from"] == "torch's pin" and f.evidence["triton.ptxas"] == "12.1.105"


# ------------------------------------------------------------------- real facts, edited
def _cu118_on_520(facts: Facts) -> Facts:
    facts = _torch(facts, "2.6.0+cu118", "11.8")
    dists = {**facts.packages.distributions, "torch": "2.6.0", "triton": "3.2.0"}
    return _driver(edit(facts, "packages.distributions", dists), "520.61.05", "11.8")


def test_a_cu12_torch_on_an_old_driver_is_driver_too_old_not_this() -> None:
    """torch's own CUDA of the assembler's major: EL-DRIVER-TOO-OLD says it, once."""
    facts = _driver(h100_host(), "520.61.05", "11.8")
    found = {f.check_id for f in run_checks(facts)}
    assert "EL-DRIVER-TOO-OLD" in found and ID not in found


def test_gpus_below_7_0_run_no_triton_kernel() -> None:
    """A Tesla P100 (6.0): inductor refuses it (GPUTooOldForTriton), so no finding."""
    facts = _cu118_on_520(h100_host())
    assert _found(facts)
    p100 = gpu(facts, name="Tesla P100-PCIE-16GB", compute_capability="6.0")
    assert not _found(with_gpus(facts, p100))


def test_liger_kernel_makes_it_an_error_and_an_old_vllm_does_not() -> None:
    facts = _cu118_on_520(h100_host())
    dists = facts.packages.distributions
    (warning,) = _found(facts)
    assert warning.severity is Severity.WARNING
    old = edit(facts, "packages.distributions", {**dists, "vllm": "0.7.3"})
    assert [f.severity for f in _found(old)] == [Severity.WARNING]
    liger = edit(facts, "packages.distributions", {**dists, "liger-kernel": "0.5.10"})
    (error,) = _found(liger)
    assert error.severity is Severity.ERROR and "liger-kernel 0.5.10" in error.message


def test_blackwell_gets_triton_3_7s_cuda_13_assembler() -> None:
    """Triton 3.7 builds for compute capability >= 10.0 with its CUDA 13.1 ptxas-blackwell:
    on an RTX 5090 a CUDA 12.8 driver (570) cannot load them; on an H100 (ptxas 12.8.93) it
    can."""
    facts = _torch(h100_host(), "2.10.0+cu128", "12.8")
    dists = {**facts.packages.distributions, "torch": "2.10.0", "triton": "3.7.1"}
    facts = _driver(edit(facts, "packages.distributions", dists), "570.172.08", "12.8")
    assert not _found(facts)
    rtx = gpu(facts, name="NVIDIA GeForce RTX 5090", compute_capability="12.0")
    (f,) = _found(with_gpus(facts, rtx))
    assert "ptxas from CUDA 13.1.80" in f.message and ">= 580.65.06" in (f.fix or "")


def test_vllms_own_version_line_counts_as_installed_beside_a_library_list() -> None:
    """vLLM's collect_env prints 'vLLM Version' by importing vllm; its pip filter lists no
    vllm. Beside a library list read, vllm is installed; without one nothing is added."""
    assert _pasted("vllm-6099.txt").packages.distributions["vllm"] == "0.4.2"
    assert _pasted("vllm-18580.txt").packages.distributions["vllm"] == "0.8.5.post1"
    assert "vllm" not in _pasted("vllm-4812.txt").packages.distributions


def test_matrix_advice_never_offers_a_build_whose_triton_cannot_load_for_vllm_0_8() -> None:
    """vllm-18580 (vLLM 0.8.5 on driver 520.61.05): every torch 2.x pins a Triton with a
    CUDA 12 ptxas, so no build runs its kernels there; the advice says so (no best build)
    instead of a cu118 build that leaves every Triton kernel unloadable."""
    from envlock.api import matrix_advice
    from envlock.collect import Source

    advice = matrix_advice(Source(collect_env=str(CE / "vllm-18580.txt")))
    assert advice.best is None
    upgrade = advice.upgrade_driver_for_newest
    assert upgrade is not None
    assert Version.parse(upgrade.driver_at_least) >= Version.parse("525.60.13")
