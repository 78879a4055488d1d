"""torch read from collect_env's library list when the paste has no 'PyTorch version' line
(envlock/pasted/pip_torch.py): the '> '-quoted library part of ROCm/legacy-rocm-build#4729
(torchaudio 2.7.0+rocm6.3 beside torch 2.3.0+rocm6.2.3) gives EL-FAMILY-MISMATCH; a torch
whose version names no build, a 'PyTorch version: N/A' and a matching family do not."""

from __future__ import annotations

from pathlib import Path

from envlock.checks import run_checks
from envlock.findings import Severity
from envlock.pasted import facts_from_texts

CE = Path(__file__).resolve().parent.parent / "fixtures" / "collect_env"

# the real comment's quoted library list (ROCm/legacy-rocm-build#4729), cut after the list
_ROCM_4729 = "".join((CE / "legacy-rocm-build-4729.txt").read_text().splitlines(keepends=True)[:22])


def _errors(text: str) -> list[str]:
    return [
        f.check_id
        for f in run_checks(facts_from_texts(collect_env=text))
        if f.severity is Severity.ERROR
    ]


def test_the_quoted_rocm_library_list_reads_torch_and_its_build() -> None:
    assert "[pip3] torchaudio==2.7.0+rocm6.3" in _ROCM_4729
    torch = facts_from_texts(collect_env=_ROCM_4729).torch
    assert torch.installed and torch.version == "2.3.0+rocm6.2.3"
    assert torch.build == "rocm6.2.3" and torch.hip == "6.2.3" and torch.cuda is None


def test_torchaudio_of_another_release_on_rocm_is_a_family_mismatch() -> None:
    findings = run_checks(facts_from_texts(collect_env=_ROCM_4729))
    family = [f for f in findings if f.check_id == "EL-FAMILY-MISMATCH"]
    assert [f.evidence["package"] for f in family] == ["torchaudio"], findings
    assert "torch 2.3.0+rocm6.2.3" in family[0].message


def test_the_whole_report_gives_the_family_finding() -> None:
    text = (CE / "legacy-rocm-build-4729.txt").read_text()
    assert "EL-FAMILY-MISMATCH" in _errors(text)


def test_a_matching_rocm_family_is_no_error() -> None:
    text = _ROCM_4729.replace("torchaudio==2.7.0+rocm6.3", "torchaudio==2.3.0+rocm6.2.3")
    assert facts_from_texts(collect_env=text).torch.installed
    assert _errors(text) == []


def test_a_torch_without_a_build_tag_is_not_read() -> None:
    text = _ROCM_4729.replace("torch==2.3.0+rocm6.2.3", "torch==2.3.0")
    torch = facts_from_texts(collect_env=text).torch
    assert not torch.installed and torch.version is None
    assert "EL-FAMILY-MISMATCH" not in _errors(text)


def test_torch_that_did_not_import_stays_not_imported() -> None:
    text = "PyTorch version: N/A\n" + _ROCM_4729.replace("> ", "")
    torch = facts_from_texts(collect_env=text).torch
    assert not torch.installed and torch.version is None


def test_the_pytorch_version_line_wins_over_the_pip_list() -> None:
    text = (
        "PyTorch version: 2.3.0+cu121\nIs debug build: False\nCUDA used to build PyTorch: 12.1\n"
        + _ROCM_4729.replace("> ", "")
    )
    torch = facts_from_texts(collect_env=text).torch
    assert torch.version == "2.3.0+cu121" and torch.cuda == "12.1" and torch.hip is None


def test_the_rocm_fix_names_no_torch_build_the_matrix_lacks() -> None:
    """The road 'move torch to torchaudio 2.7's release' would name torch 2.7 for +rocm6.2.3,
    a build the matrix does not hold (the thread's fix took rocm6.3's wheels); the member's
    own pin at torch's release stays, and tests/checks/test_fixes_recheck.py re-checks it."""
    findings = run_checks(facts_from_texts(collect_env=_ROCM_4729))
    (family,) = [f for f in findings if f.check_id == "EL-FAMILY-MISMATCH"]
    assert family.fix is not None and '"torchaudio==2.3.*"' in family.fix
    assert "torch==2.7" not in family.fix
