"""EL-DRIVER-MINOR-COMPAT as a CUDA expert reads it (session 6 review, helper X).

The installed build runs (minor-version compatibility is NVIDIA's supported road), so the
warning's fix is the driver; another build is offered only of the installed release: the
nearest build "this driver fully supports" was five releases back (vllm#6099's vLLM 0.4.2,
whose torch 2.3 pin the offered torch 1.12 breaks), a nightly's was the 2.7 release
(pytorch#175855), and NGC's own torch was to be replaced by PyPI's (pytorch#91351). The
message says what fails: PTX from the newer toolchain, not Triton, whose kernels are
cubins of its own ptxas (EL-TRITON-DRIVER-TOO-OLD judges those).
"""

from __future__ import annotations

import pytest

from envlock.checks.registry import run_checks
from envlock.checks.triage import top_finding
from envlock.findings import Finding, Severity
from envlock.pasted import facts_from_texts
from tests.conftest import FIXTURES

CE = FIXTURES / "collect_env"


def _minor(name: str) -> Finding:
    found = run_checks(facts_from_texts(collect_env=(CE / name).read_text()))
    (f,) = [f for f in found if f.check_id == "EL-DRIVER-MINOR-COMPAT"]
    return f


@pytest.mark.parametrize(
    "name",
    [
        "vllm-6099.txt",  # torch 2.3.0+cu118 (vLLM 0.4.2) on 470: was torch 1.12 cu113
        "vllm-4432.txt",  # torch 2.1.2+cu118 on 450: was torch 1.12 cu102
        "pytorch-175855.txt",  # a 2.10 nightly on 535: was the 2.7 release
        "pytorch-91351.txt",  # NGC's 1.14.0a0 on 515: was PyPI's 2.0
        "xformers-1305.txt",  # torch 2.8.0+cu128 on 550: was 2.7 cu118
    ],
)
def test_no_road_leaves_the_installed_release(name: str) -> None:
    f = _minor(name)
    assert all("torch" not in r or "driver_at_least" in r for r in f.evidence["fix.roads"]), f.fix
    assert "pip install" not in (f.fix or ""), f.fix
    # a note (torch alone on SASS, test_minor_compat_note) says so before the same driver road
    lead = (
        "nothing to change while it runs; where an extension fails so: "
        if f.severity is Severity.INFO
        else ""
    )
    assert (f.fix or "").startswith(lead + "upgrade the NVIDIA driver to >= "), f.fix


def test_a_build_of_the_installed_release_is_still_offered() -> None:
    """vllm#20813 (a vLLM report, so a warning): torch 2.7 cu126 on 550: 2.7's cu118 runs with
    full support."""
    f = _minor("vllm-20813.txt")
    assert {"torch": "2.7", "variant": "cu118"} in f.evidence["fix.roads"], f.fix
    assert '"torch==2.7.*" --index-url https://download.pytorch.org/whl/cu118' in (f.fix or "")


def test_the_message_names_ptx_not_triton() -> None:
    f = _minor("vllm-15592.txt")
    assert "Triton" not in f.message and "torch.compile" not in f.message, f.message
    assert "PTX" in f.message and "minor-version compatibility" in f.message


def test_vllm_31700_still_reads_it_first() -> None:
    """The corpus report whose diagnosis it is (PTX from the 12.8 toolchain on 550)."""
    found = run_checks(facts_from_texts(collect_env=(CE / "vllm-31700.txt").read_text()))
    top = top_finding(found)
    assert top is not None and top.check_id == "EL-DRIVER-MINOR-COMPAT"
