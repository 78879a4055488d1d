"""Ultralytics' `yolo checks` table read as the facts it states (envlock/pasted/yolochecks.py):
torch and its CUDA, the OS, Python, GPU 0 and the requirements' versions, where an untagged
Windows torchvision beside a +cu torch is PyPI's CPU build (checks/pypidefault.py). Each case
is a report's real text (the corpus file named) or the tool's source format (ultralytics/utils/
checks.py collect_system_info); beside each, the lookalike that must not give the finding."""

from __future__ import annotations

from pathlib import Path

import pytest

from envlock.checks import run_checks
from envlock.pasted import facts_from_texts
from envlock.pasted.yolochecks import read_yolo_checks
from tests.pasted.test_tool_reports import _errors, _top

CE = Path(__file__).resolve().parent.parent / "fixtures" / "collect_env"


# ------------------------------------------------------------ `yolo checks`
# ultralytics#17704's Environment section (Windows 10, RTX 4070)
_CHECKS_17704 = (CE / "ultralytics-17704.txt").read_text()


def test_yolo_checks_table_reads_torch_its_cuda_the_os_and_the_gpu() -> None:
    facts = facts_from_texts(collect_env=_CHECKS_17704)
    assert facts.torch.version == "2.5.1+cu124" and facts.torch.cuda == "12.4"
    assert facts.system.os is not None and facts.system.os.id == "windows"
    assert [g.name for g in facts.driver.gpus or []] == ["NVIDIA GeForce RTX 4070"]
    assert facts.packages.distributions["torchvision"] == "0.20.1"


def test_an_untagged_windows_torchvision_beside_a_cuda_torch_is_a_family_mismatch() -> None:
    findings = run_checks(facts_from_texts(collect_env=_CHECKS_17704))
    family = [f for f in findings if f.check_id == "EL-FAMILY-MISMATCH"]
    assert [f.evidence["package"] for f in family] == ["torchvision"], findings
    assert "(cpu)" in family[0].message
    assert _top(_CHECKS_17704) == "EL-FAMILY-MISMATCH"


def test_the_cuda_build_of_torchvision_on_windows_is_no_error() -> None:
    text = _CHECKS_17704.replace("0.20.1>=0.9.0", "0.20.1+cu124>=0.9.0")
    assert _errors(text) == []


def test_the_same_table_on_linux_is_pypis_cuda_build_and_no_error() -> None:
    # PyPI's Linux x86_64 torchvision 0.20.1 is its default variant, cu124 like torch
    text = _CHECKS_17704.replace(
        "Windows-10-10.0.19045-SP0", "Linux-6.8.0-51-generic-x86_64-with-glibc2.35"
    ).replace("Environment         Windows", "Environment         Linux")
    assert _errors(text) == []


def test_a_table_without_its_marks_or_padding_is_read() -> None:
    # the emoji lost and the padding collapsed to one blank (a rendered page)
    text = "\n".join(
        " ".join(line.replace("\u2705 ", "").split()) for line in _CHECKS_17704.splitlines()
    )
    reading = read_yolo_checks(text)
    assert reading is not None and reading.packages["torchvision"] == "0.20.1"
    assert reading.fields["PyTorch version"] == "2.5.1+cu124"


def test_cuda_none_says_only_that_cuda_is_not_available() -> None:
    text = "OS                  Linux-5.15.0-x86_64-with-glibc2.35\nCUDA                None\n"
    reading = read_yolo_checks(text + "torch               \u2705 2.3.0>=1.8.0\n")
    assert reading is not None and reading.fields["Is CUDA available"] == "False"
    assert "CUDA used to build PyTorch" not in reading.fields


@pytest.mark.parametrize(
    "text",
    [
        "Python              3.11.6\ntorch               \u2705 2.5.1+cu124>=1.8.0\n",  # one row
        "OS is Windows-10 and Python 3.11.6\ntorch 2.5.1 and torchvision 0.20.1\n",  # prose
        "OS                  Windows-10-10.0.19045-SP0\nPython              3.11.6\n",  # no torch
    ],
    ids=["one-row", "prose", "no-torch"],
)
def test_what_is_not_the_table_is_not_read(text: str) -> None:
    assert read_yolo_checks(text) is None
