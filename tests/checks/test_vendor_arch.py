"""Issue 21 item 3 in the arch check: a torch that is not the official wheel of its version
(NVIDIA's NGC or JetPack build, a source build, a nightly, conda-forge's) is compiled for
its own arch list, so it is never judged by the official wheel's row. Its own
torch.cuda.get_arch_list() decides where the facts carry it; otherwise the doctor cannot
tell, and says so (not checked, with the reason) instead of a false EL-ARCH-UNSUPPORTED.

Facts are the recorded H100 host edited to an RTX 5090 (12.0) and each build.
"""

from __future__ import annotations

import dataclasses

import pytest

from envlock.checks.context import CheckContext
from envlock.checks.needs import missing_facts
from envlock.checks.registry import run_checks
from envlock.facts import Facts
from envlock.matrix import load_matrix
from envlock.matrix.builds import not_the_official_wheel
from tests.facts_builders import edit, gpu, h100_host, with_gpus

RTX_5090 = ("NVIDIA GeForce RTX 5090", "12.0")
BLACKWELL_FLAGS = ["sm_75", "sm_80", "sm_86", "sm_90", "sm_100", "sm_120"]


def _build(version: str, cuda: str, *, flags: list[str] | None, conda: str | None = None) -> Facts:
    """The H100 host with an RTX 5090 and this torch; `flags` its live arch flags (None:
    facts without torch's live part, as a pasted report or --no-torch-live gives)."""
    f = h100_host()
    f = with_gpus(f, gpu(f, name=RTX_5090[0], compute_capability=RTX_5090[1]))
    live = None if flags is None else dataclasses.replace(f.torch.live, arch_flags=flags)  # type: ignore[arg-type]
    build = "cu" + cuda.replace(".", "")
    f = edit(
        f, "torch", dataclasses.replace(f.torch, version=version, cuda=cuda, build=build, live=live)
    )
    if conda is not None:
        f = edit(f, "toolchain.conda_packages", {"pytorch": conda})
    return f


def _arch_errors(f: Facts) -> list[str]:
    return [x.message for x in run_checks(f) if x.check_id == "EL-ARCH-UNSUPPORTED"]


VENDOR = [
    # a source build for Blackwell (TORCH_CUDA_ARCH_LIST=12.0) of a release whose official
    # cu126 wheel stops at sm_90: the most common way to run 2.6/2.7 on an RTX 50xx
    ("2.7.0a0+git1341794", "12.6", None),
    # NGC 24.12's torch (CUDA 12.6): NVIDIA builds 9.0+PTX, not the official list
    ("2.6.0a0+df5bbc09d1.nv24.12", "12.6", None),
    # conda-forge's own build of 2.6.0 (its own arch list), no local tag in the version
    ("2.6.0", "12.6", "2.6.0 cuda126_py311h1234567_300"),
    # a nightly: not a release's list
    ("2.7.0.dev20250310+cu126", "12.6", None),
]


@pytest.mark.parametrize(("version", "cuda", "conda"), VENDOR)
def test_a_vendor_build_is_not_judged_by_the_official_list(
    version: str, cuda: str, conda: str | None
) -> None:
    f = _build(version, cuda, flags=None, conda=conda)
    assert _arch_errors(f) == []
    # nor by the official wheel's cuDNN (9.5.1.17 for 2.6/2.7 cu126, which stops at 9.0)
    assert not [x for x in run_checks(f) if x.check_id == "EL-CUDNN-GPU-UNSUPPORTED"]
    ctx = CheckContext(facts=f, host=None, matrix=load_matrix())
    assert ctx.torch_variant() is None  # nor its cuDNN, NCCL
    said = missing_facts(ctx)
    assert "own arch list" in said["EL-ARCH-UNSUPPORTED"], said
    assert "EL-ARCH-PTX-ONLY" in said


@pytest.mark.parametrize(("version", "cuda", "conda"), VENDOR)
def test_its_own_arch_list_decides(version: str, cuda: str, conda: str | None) -> None:
    """With the build's live arch flags: sm_120 in them runs, none for 12.0 is the error."""
    assert _arch_errors(_build(version, cuda, flags=BLACKWELL_FLAGS, conda=conda)) == []
    errors = _arch_errors(_build(version, cuda, flags=["sm_80", "sm_86", "sm_90"], conda=conda))
    assert len(errors) == 1 and "12.0" in errors[0]
    ctx = CheckContext(
        facts=_build(version, cuda, flags=BLACKWELL_FLAGS), host=None, matrix=load_matrix()
    )
    assert "EL-ARCH-UNSUPPORTED" not in missing_facts(ctx)


@pytest.mark.parametrize(
    ("version", "conda"),
    [
        ("2.6.0+cu126", None),  # download.pytorch.org's wheel
        ("2.6.0", "2.6.0 py3.11_cuda12.6_cudnn9.1.0_0"),  # the pytorch channel's build
    ],
)
def test_the_official_wheel_is_still_judged_by_its_row(version: str, conda: str | None) -> None:
    """2.6 cu126 has no sm_120 kernels: an official build without live facts still fires."""
    errors = _arch_errors(_build(version, "12.6", flags=None, conda=conda))
    assert len(errors) == 1 and "12.0" in errors[0]


def test_the_reasons_name_the_build() -> None:
    assert "NVIDIA" in (not_the_official_wheel("2.3.0a0+40ec155e58.nv24.03", {}) or "")
    assert "NVIDIA" in (not_the_official_wheel("2.0.0+nv23.05", {}) or "")  # JetPack
    assert "source build" in (not_the_official_wheel("2.3.0a0+git2e4abc8", {}) or "")
    assert "conda-forge" in (
        not_the_official_wheel("2.1.2", {"pytorch": "2.1.2 cuda118_py310h1234567_301"}) or ""
    )
    assert not_the_official_wheel("2.14.1+cu130", {}) is None
    assert not_the_official_wheel("2.7.0", {}) is None
