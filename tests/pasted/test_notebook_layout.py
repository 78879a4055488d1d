"""collect_env run in a Jupyter cell and pasted from the .ipynb file: each line of the output a
JSON string ('"PyTorch version: 2.1.2+cu121\\n",'), the report's own line inside (issue 21,
session 6: unreadable before). From the tuning report's own text."""

from __future__ import annotations

from envlock.checks import run_checks
from envlock.findings import Severity
from envlock.pasted import facts_from_texts
from envlock.pasted.layout import undo_layout
from tests.conftest import FIXTURES

CE = FIXTURES / "collect_env"
NOTEBOOK = "hf-space-unreal-hug-finetunesam-ipynb.txt"


def test_a_notebooks_stored_output_reads_as_the_report() -> None:
    f = facts_from_texts(collect_env=(CE / NOTEBOOK).read_text())
    assert (f.torch.version, f.torch.cuda) == ("2.1.2+cu121", "12.1")
    assert f.torch.live is not None and f.torch.live.cuda_available is True
    assert [g.name for g in f.driver.gpus or []] == ["NVIDIA GeForce RTX 3080 Ti"]
    assert f.driver.version is not None
    assert f.system.os is not None and f.system.os.id == "windows"
    assert [x.check_id for x in run_checks(f) if x.severity is Severity.ERROR] == []


def test_the_json_strings_are_undone_escapes_included() -> None:
    text = '"Python platform: Windows-10\\n",\n"cuDNN version: C:\\\\cuda\\\\cudnn64_8.dll\\n",\n"\\n",\n"Is'
    assert (
        undo_layout(text).text
        == "Python platform: Windows-10\ncuDNN version: C:\\cuda\\cudnn64_8.dll\n\nIs"
    )


def test_a_report_quoting_one_string_is_not_a_notebook() -> None:
    text = 'PyTorch version: 2.1.2+cu121\n"CUDA_VISIBLE_DEVICES=0\\n",\nIs CUDA available: True'
    assert undo_layout(text).text == text
