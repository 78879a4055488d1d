"""On Windows a torch family member pip installed without a local tag is PyPI's CPU build
(checks/pypidefault.py): beside a +cuNNN torch it is EL-FAMILY-MISMATCH (ultralytics#17704:
torchvision 0.20.1 beside torch 2.5.1+cu124, 'Could not run torchvision::nms ... CUDA
backend'). Built from pytorch#51858's real Windows report (torch 2.0.1+cu117 beside
torchvision 0.15.2), whose conda list, cut after '[conda] blas 1.0', does not say whether
torchvision is conda's build: left alone as pasted; judged where conda says nothing or names
torchvision pip's; never before torch 1.9 (untagged CUDA builds on Windows then)."""

from __future__ import annotations

import pytest

from envlock.checks.registry import run_checks
from envlock.findings import Finding
from envlock.pasted import facts_from_texts
from tests.conftest import FIXTURES

TEXT = (FIXTURES / "collect_env" / "pytorch-51858.txt").read_text()
_CONDA = "[conda] blas                      1.0"


def _family(text: str) -> list[Finding]:
    found = run_checks(facts_from_texts(collect_env=text))
    return [f for f in found if f.check_id == "EL-FAMILY-MISMATCH"]


def test_the_report_as_pasted_is_left_alone() -> None:
    assert _CONDA in TEXT and "[pip3] torchvision==0.15.2\n" in TEXT
    assert _family(TEXT) == []


@pytest.mark.parametrize(
    "conda",
    ["[conda] Could not collect", f"{_CONDA}\n[conda] torchvision 0.15.2 pypi_0 pypi"],
    ids=["no-conda", "conda-says-pip"],
)
def test_an_untagged_windows_torchvision_beside_a_cuda_torch_is_its_cpu_build(conda: str) -> None:
    (family,) = _family(TEXT.replace(_CONDA, conda))
    assert family.evidence["package"] == "torchvision"
    assert "PyPI's default build (cpu)" in family.message and "+cu117" in family.message
    assert '"torchvision==0.15.*"' in (family.fix or "") and "whl/cu117" in (family.fix or "")


def test_conda_own_build_of_the_member_is_left_alone() -> None:
    text = TEXT.replace(_CONDA, "[conda] torchvision 0.15.2 py39_cu117 pytorch")
    assert _family(text) == []


def test_a_release_before_1_9_is_left_alone() -> None:
    # 1.8's site command for CUDA 10.2 installed untagged wheels on Windows too
    text = TEXT.replace(_CONDA, "[conda] Could not collect")
    text = text.replace("2.0.1+cu117", "1.8.1+cu111").replace(
        "torchvision==0.15.2", "torchvision==0.9.1"
    )
    text = text.replace("torchaudio==2.0.2+cu117", "torchaudio==0.8.1")
    assert _family(text) == []
