"""EL-ARCH-UNSUPPORTED from torch's release alone, where the paste names the release but not
its build (checks/archrelease.py; issue 21, session 13: MinkowskiEngine-620's hand list,
'PyTorch Version: 2.5.1' beside an RTX 5090). The matrix's rows of the release decide: no
official torch 2.5 build (cu118, cu121, cu124: CUDA 12.4 at most) carries sm_120 or PTX
from a CUDA that knew Blackwell (12.8), every torch 2.7 cu128 build does; no official torch
1.13 build (CUDA 11.7 at most) runs Hopper (11.8)."""

from __future__ import annotations

import pytest

from envlock.checks import run_checks
from tests.conftest import FIXTURES
from tests.pasted.test_prose_controls import _errors, _facts

CE = FIXTURES / "collect_env"


def _listed(gpu: str, torch: str, extra: str = "") -> str:
    """A hand-written environment list as MinkowskiEngine-620's reporter wrote it."""
    return (
        f"### Environment Information\n\n- GPU: {gpu}\n- PyTorch Version: {torch}\n"
        f"- Python Version: 3.10\n{extra}"
    )


def _arch_from(text: str) -> list[object]:
    facts = _facts(text)
    assert facts is not None
    return [
        f.evidence.get("arch_flags_from")
        for f in run_checks(facts)
        if f.check_id == "EL-ARCH-UNSUPPORTED"
    ]


def test_an_untagged_torch_2_5_on_an_rtx_5090_has_no_kernels_whichever_build() -> None:
    text = (CE / "MinkowskiEngine-620.txt").read_text()
    assert _errors(text)[:1] == ["EL-ARCH-UNSUPPORTED"]
    assert _arch_from(text) == ["matrix: every official torch 2.5 build"]


def test_the_fix_is_the_nearest_release_that_runs_not_the_newest() -> None:
    # the named release's roads first (issue 21 item 6: cost order): torch 2.7 cu128, the
    # first with sm_120 kernels, not the newest build with a newer driver's floor
    text = (CE / "MinkowskiEngine-620.txt").read_text()
    (arch,) = [f for f in run_checks(_facts(text)) if f.check_id == "EL-ARCH-UNSUPPORTED"]
    assert '"torch==2.7.*"' in (arch.fix or "") and "/whl/cu128" in (arch.fix or "")


@pytest.mark.parametrize(
    ("gpu", "torch"),
    [("NVIDIA RTX 5090", "2.5.1"), ("NVIDIA H100 80GB HBM3", "1.13.1")],
)
def test_a_gpu_no_build_of_the_release_runs_is_arch_unsupported(gpu: str, torch: str) -> None:
    text = _listed(gpu, torch)
    assert _errors(text) == ["EL-ARCH-UNSUPPORTED"]


@pytest.mark.parametrize(
    ("gpu", "torch"),
    [
        ("NVIDIA RTX 5090", "2.7.1"),  # every 2.7 cu128 build has sm_120
        ("NVIDIA GeForce RTX 3090", "2.5.1"),  # every 2.5 build has sm_86
        # NVIDIA's own build (a Jetson's, an NGC container's): not the matrix's rows
        ("NVIDIA RTX 5090", "2.5.0a0+872d972e41.nv24.08"),
        # a Jetson: the matrix holds the x86_64 wheels' lists, NVIDIA builds its own
        ("NVIDIA Jetson AGX Orin", "2.2.0"),
    ],
)
def test_a_release_one_of_whose_builds_may_run_the_gpu_says_nothing(gpu: str, torch: str) -> None:
    assert _arch_from(_listed(gpu, torch)) == []


def test_a_cpu_build_torch_states_is_the_cpu_build_not_missing_kernels() -> None:
    text = _listed(
        "NVIDIA RTX 5090", "2.5.1", "AssertionError: Torch not compiled with CUDA enabled\n"
    )
    assert _errors(text) == ["EL-TORCH-CPU-ONLY"]
