"""The whole torch family (issue 21 item 3): torchaudio and torchtext pairings for every
torch release, torchvision before 1.4, torchaudio's stable ABI from 2.11, and vendor and
source builds of torch recognised from their versions (a released torchvision beside
NVIDIA's or a source build is a mismatch; beside a ROCm torch, PyPI's CUDA build is)."""

from __future__ import annotations

import pytest

from envlock.checks import run_checks
from envlock.facts import Facts
from envlock.findings import Finding
from envlock.matrix.builds import NIGHTLY, NVIDIA, PYPI, PYTORCH_INDEX, SOURCE, torch_origin
from envlock.matrix.family import load_family
from envlock.matrix.versions import Version
from tests.facts_builders import cuda_venv, edit


def _env(torch: str, cuda: str | None, **members: str) -> Facts:
    facts = edit(cuda_venv(), "torch.version", torch)
    facts = edit(facts, "torch.cuda", cuda)
    build = (
        torch.partition("+")[2]
        if "+" in torch
        else (f"cu{cuda.replace('.', '')}" if cuda else "cpu")
    )
    facts = edit(facts, "torch.build", build)
    return edit(facts, "packages.distributions", {**facts.packages.distributions, **members})


def _family(facts: Facts) -> list[Finding]:
    return [f for f in run_checks(facts) if f.check_id == "EL-FAMILY-MISMATCH"]


@pytest.mark.parametrize(
    ("torch", "member", "wrong", "right"),
    [
        ("1.9.0+cu111", "torchtext", "0.6.0", "0.10.0"),
        ("2.3.1+cu121", "torchtext", "0.17.2", "0.18.0"),
        ("1.12.1+cu113", "torchaudio", "0.10.0+cu113", "0.12.1+cu113"),
        ("1.2.0", "torchvision", "0.3.0", "0.4.0"),
        ("1.0.1", "torchvision", "0.4.2", "0.2.2"),
        ("2.10.0+cu128", "torchaudio", "2.9.1+cu128", "2.10.0+cu128"),
    ],
)
def test_every_member_is_paired_for_every_listed_release(
    torch: str, member: str, wrong: str, right: str
) -> None:
    (f,) = _family(_env(torch, "11.1", **{member: wrong}))
    assert f.evidence["package"] == member and f.evidence["found_by"] == ["pairing"]
    assert _family(_env(torch, "11.1", **{member: right})) == []


def test_torchaudio_on_the_stable_abi_runs_on_later_torch_only() -> None:
    """torchaudio 2.11 supports torch 2.11 and every later torch (A2): no mismatch with 2.13;
    torchaudio 2.11 under torch 2.10 and 2.10 under 2.11 are mismatches."""
    assert _family(_env("2.13.0+cu130", "13.0", torchaudio="2.11.0+cu130")) == []
    (old_torch,) = _family(_env("2.10.0+cu128", "12.8", torchaudio="2.11.0+cu128"))
    assert "torchaudio 2.10.x is the release for torch 2.10" in old_torch.message
    (old_audio,) = _family(_env("2.11.0+cu130", "13.0", torchaudio="2.10.0+cu130"))
    assert "goes with torch 2.10" in old_audio.message


def test_every_row_is_sourced_and_torchtext_ends_at_torch_23() -> None:
    family = load_family()
    torches = [str(r.torch) for r in family.rows]
    assert torches[:4] == ["1.0", "1.1", "1.2", "1.3"]
    for row in family.rows:
        assert row.source
        has_text = "torchtext" in row.members
        assert has_text == (Version.parse("1.4") <= row.torch <= Version.parse("2.3")), row.torch
        if Version.parse("1.4") <= row.torch <= Version.parse("2.11"):
            assert "torchaudio" in row.members, row.torch


@pytest.mark.parametrize(
    ("version", "kind"),
    [
        ("2.3.0a0+40ec155e58.nv24.03", NVIDIA),  # NGC PyTorch 24.03
        ("2.0.0a0+ec3941ad.nv23.02", NVIDIA),  # the Jetson wheel of vllm#5640's report
        ("2.0.0+nv23.05", NVIDIA),  # JetPack 5.1 wheel
        ("2.3.0a0+git2e4abc8", SOURCE),  # rocm/vllm#397's report
        ("1.7.0a0+9ddd3df", SOURCE),  # pytorch#44106's report
        ("2.12.0+rocm7.2", PYTORCH_INDEX),
        ("2.14.1+cu130", PYTORCH_INDEX),
        ("2.8.0.dev20250528+cpu", NIGHTLY),
        ("2.7.0", PYPI),
    ],
)
def test_torch_origin_from_its_version(version: str, kind: str) -> None:
    assert torch_origin(version).kind == kind


@pytest.mark.parametrize(
    "torch", ["2.3.0a0+40ec155e58.nv24.03", "2.3.0+nv24.05", "2.3.0a0+git2e4abc8"]
)
def test_released_torchvision_on_a_vendor_or_source_torch_is_a_mismatch(torch: str) -> None:
    (f,) = _family(_env(torch, "12.4", torchvision="0.18.0"))
    assert f.evidence["found_by"] == ["build origin"]
    assert "released wheel" in f.message
    assert f.fix is not None and "pytorch/vision.git@v0.18.0" in f.fix
    assert "--index-url" not in f.fix  # never PyPI's or the index's build again
    # the vendor's own torchvision (NGC ships 0.18.0a0) is its pair
    assert _family(_env(torch, "12.4", torchvision="0.18.0a0")) == []
    assert _family(_env(torch, "12.4", torchvision="0.18.0a0+6043bc2")) == []


def test_pypi_torchvision_on_a_rocm_torch_is_a_mismatch() -> None:
    (f,) = _family(_env("2.5.1+rocm6.2", None, torchvision="0.20.1"))
    assert "a PyPI build (for CUDA), torch is +rocm6.2" in f.message
    assert f.fix is not None and "download.pytorch.org/whl/rocm6.2" in f.fix
    assert _family(_env("2.5.1+rocm6.2", None, torchvision="0.20.1+rocm6.2")) == []


def test_sibling_build_tag_beside_a_torch_without_a_local_tag() -> None:
    """torch 2.0.1 reported with CUDA 11.8 (conda, or a paste's 'CUDA used to build') is the
    cu118 build: a torchvision 0.15.2+cu117 beside it is one for another CUDA."""
    (f,) = _family(_env("2.0.1", "11.8", torchvision="0.15.2+cu117"))
    assert "built for cu117, torch is +cu118" in f.message
    assert _family(_env("2.0.1", "11.8", torchvision="0.15.2+cu118")) == []
    assert _family(_env("2.0.1", "11.8", torchvision="0.15.2")) == []
