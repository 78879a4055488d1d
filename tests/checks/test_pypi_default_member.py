"""A family member pip installed without a local tag is PyPI's default variant of its release
(session 7's held-out miss vllm-16632, helper C10).

vllm#16632 lists `torchaudio==2.5.1` beside `torch==2.5.1+cu118` and `torchvision==0.20.1+cu118`,
with nvidia-*-cu12 wheels beside the cu11 ones: on Linux x86_64, PyPI's torchaudio 2.5.1 is
the cu124 build (the matrix's default variant of 2.5), which pulled CUDA 12's wheels in. The
doctor said EL-NCCL-MULTIPLE first and no EL-FAMILY-MISMATCH at all. The mismatch is the cause
to read first; the mixed wheels stay, named as its consequence. Not where torch is PyPI's
default variant itself, nor for conda's build of the member, a vendor torch, or macOS, whose
PyPI wheels are other builds; on Windows PyPI's are CPU builds (ultralytics#17704).
"""

from __future__ import annotations

from dataclasses import replace

from envlock.checks.registry import run_checks
from envlock.checks.triage import top_finding
from envlock.findings import Finding
from envlock.matrix import Version, load_matrix
from envlock.pasted import facts_from_texts
from tests.conftest import FIXTURES

TEXT = (FIXTURES / "collect_env" / "vllm-16632.txt").read_text()


def _findings(text: str) -> list[Finding]:
    return run_checks(facts_from_texts(collect_env=text))


def _family(text: str) -> list[Finding]:
    return [f for f in _findings(text) if f.check_id == "EL-FAMILY-MISMATCH"]


def test_16632_torchaudio_is_pypis_default_variant_and_read_first() -> None:
    found = _findings(TEXT)
    (family,) = [f for f in found if f.check_id == "EL-FAMILY-MISMATCH"]
    default = load_matrix().torch_release(Version((2, 5)))
    assert default is not None
    assert family.evidence["package"] == "torchaudio"
    assert f"PyPI's default build ({default.default_variant})" in family.message
    assert "+cu118" in family.message
    top = top_finding(found)
    assert top is not None and top.check_id == "EL-FAMILY-MISMATCH"
    # the mixed wheels stay, and the family finding names them as its consequence
    ids = {f.check_id for f in found}
    assert {"EL-WHEELS-MIXED-CUDA", "EL-NCCL-MULTIPLE"} <= ids
    assert "EL-NCCL-MULTIPLE" in family.message and "EL-WHEELS-MIXED-CUDA" in family.message
    assert '"torchaudio==2.5.*"' in (family.fix or "") and "whl/cu118" in (family.fix or "")


def test_a_named_consequence_ranks_after_its_cause_whatever_the_ids() -> None:
    """The ranking does not rest on check-ID order: a finding the cause names among its
    consequences (evidence 'consequences') ranks after it, even where its ID sorts first."""
    found = _findings(TEXT)
    fam = next(f for f in found if f.check_id == "EL-FAMILY-MISMATCH")
    assert set(fam.evidence["consequences"]) == {"EL-NCCL-MULTIPLE", "EL-WHEELS-MIXED-CUDA"}
    nccl = next(f for f in found if f.check_id == "EL-NCCL-MULTIPLE")
    late = replace(fam, check_id="EL-TORCH-TWO-INSTALLS")  # sorts after NCCL
    assert top_finding([nccl, late]) is late
    assert top_finding([nccl]) is nccl


def test_torch_of_pypis_default_variant_is_no_mismatch() -> None:
    text = TEXT.replace("2.5.1+cu118", "2.5.1+cu124").replace("0.20.1+cu118", "0.20.1+cu124")
    assert _family(text) == []


def _windows(text: str) -> str:
    windows = text.replace("OS: CentOS Linux 7 (Core) (x86_64)", "OS: Microsoft Windows 11 Pro")
    return windows.replace(
        "Python platform: Linux-5.10.0-1.0.0.34-x86_64-with-glibc2.17",
        "Python platform: Windows-10-10.0.22631-SP0",
    )


def test_on_windows_the_untagged_member_is_pypis_cpu_build() -> None:
    """PyPI's Windows wheels are CPU builds (checks/pypidefault.py): the same list on Windows
    is torchaudio's CPU build beside torch's cu118 one, with no CUDA wheels brought along."""
    (family,) = _family(_windows(TEXT))
    assert family.evidence["package"] == "torchaudio"
    assert "PyPI's default build (cpu)" in family.message
    assert "consequences" not in family.evidence


def test_not_on_macos() -> None:
    mac = TEXT.replace("OS: CentOS Linux 7 (Core) (x86_64)", "OS: macOS 14.4 (arm64)")
    mac = mac.replace(
        "Python platform: Linux-5.10.0-1.0.0.34-x86_64-with-glibc2.17",
        "Python platform: macOS-14.4-arm64-arm-64bit",
    )
    assert _family(mac) == []


def test_not_for_conda_builds_of_the_member() -> None:
    text = TEXT.replace(
        "[pip3] torchaudio==2.5.1",
        "[pip3] torchaudio==2.5.1\n[conda] torchaudio                2.5.1               py39_cu118    pytorch",
    )
    assert _family(text) == []


def test_a_member_without_variants_is_left_alone() -> None:
    """torchaudio before 0.10 had no local tags at all (hints.variantless)."""
    text = TEXT.replace("2.5.1+cu118", "1.9.0+cu111").replace("0.20.1+cu118", "0.10.0+cu111")
    text = text.replace("torchaudio==2.5.1", "torchaudio==0.9.0")
    assert _family(text) == []
