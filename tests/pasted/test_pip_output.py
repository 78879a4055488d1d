"""pip's own install output read as the facts it states (envlock/pasted/pipout.py): torch's
version where pip found it, Windows from its site-packages path, the PyTorch index asked for.
Vonovox#14's setup output (an untagged torch 2.5.1 in the Windows user site beside the cu128
index asked for) is PyPI's CPU wheel: EL-TORCH-CPU-ONLY. A conda environment's, a Linux one's
and a release before 1.9 say no build; a tag says its build."""

from __future__ import annotations

from pathlib import Path

import pytest

from envlock.pasted import facts_from_texts
from envlock.pasted.pipout import read_pip_output
from tests.pasted.test_tool_reports import _top

CE = Path(__file__).resolve().parent.parent / "fixtures" / "collect_env"
_VONOVOX = (CE / "Vonovox-14.txt").read_text()
_USER_SITE = "c:\\users\\hchc0\\appdata\\roaming\\python\\python312\\site-packages"


def test_an_untagged_torch_in_the_windows_user_site_is_pypis_cpu_wheel() -> None:
    facts = facts_from_texts(collect_env=_VONOVOX)
    assert facts.torch.version == "2.5.1" and facts.torch.installed
    assert facts.torch.cuda is None and facts.torch.build == "cpu"
    assert facts.system.os is not None and facts.system.os.id == "windows"
    assert facts.packages.distributions["torchvision"] == "0.20.1"
    assert any("cu128" in note for note in facts.meta.notes)
    assert _top(_VONOVOX) == "EL-TORCH-CPU-ONLY"


@pytest.mark.parametrize(
    "where",
    [
        "c:\\users\\x\\miniconda3\\envs\\vc\\lib\\site-packages",  # conda's torch may be CUDA
        "c:\\programdata\\anaconda3\\lib\\site-packages",
        "/usr/local/lib/python3.12/dist-packages",  # Linux: PyPI's is a CUDA build
    ],
)
def test_an_untagged_torch_elsewhere_says_no_build(where: str) -> None:
    text = _VONOVOX.replace(_USER_SITE, where)
    assert where in text
    reading = read_pip_output(text)
    assert reading is not None and reading.fields["PyTorch version"] == "2.5.1"
    assert "CUDA used to build PyTorch" not in reading.fields
    assert _top(text) != "EL-TORCH-CPU-ONLY"


def test_a_release_before_1_9_on_windows_says_no_build() -> None:
    # 1.8's 'CUDA 10.2: pip install torch==1.8.0' was untagged on Windows as well
    text = f"Requirement already satisfied: torch in {_USER_SITE} (1.8.0)\n"
    reading = read_pip_output(text)
    assert reading is not None and "CUDA used to build PyTorch" not in reading.fields


def test_the_last_statement_is_the_one_in_place() -> None:
    text = (
        f"Requirement already satisfied: torch in {_USER_SITE} (2.5.1)\n"
        "Found existing installation: torch 2.5.1\n"
        "Successfully uninstalled torch-2.5.1\n"
        "Successfully installed torch-2.7.0+cu128 torchvision-0.22.0+cu128\n"
    )
    facts = facts_from_texts(collect_env=text)
    assert facts.torch.version == "2.7.0+cu128" and facts.torch.cuda == "12.8"
    assert facts.packages.distributions["torchvision"] == "0.22.0+cu128"


def test_a_requirement_with_a_specifier_and_a_parent_is_read() -> None:
    line = (
        "Requirement already satisfied: torch>=2.0 in /opt/venv/lib/python3.11/site-packages "
        "(from -r requirements.txt (line 3)) (2.3.1+cu121)"
    )
    reading = read_pip_output(line)
    assert reading is not None and reading.fields["PyTorch version"] == "2.3.1+cu121"


@pytest.mark.parametrize(
    "text",
    [
        "Requirement already satisfied: torchvision in /x/site-packages (0.20.1)\n",  # no torch
        "I ran pip and torch in c:\\users (2.5.1) was already there\n",  # prose
        "Successfully installed torchaudio-2.5.1 numpy-1.26.4\n",
    ],
)
def test_without_pips_torch_line_nothing_is_read(text: str) -> None:
    assert read_pip_output(text) is None
