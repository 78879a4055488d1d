"""'PyTorch version: N/A' says only that collect_env could not import torch (session 7, helper
C10). pytorch#186591 and pytorch#100579 have torch installed, its import failing; the doctor
said "torch is not installed" and fixed it with `python -m pip install torch`, which pip
answers "Requirement already satisfied". On a paste the finding says what is known, and its
fix first runs `python -c "import torch"` in that interpreter, installing only where that says
No module named 'torch'. A live probe that saw no torch distribution keeps its wording
(tests/checks/test_checks.py: "torch is not installed for /usr/bin/python3 ...")."""

from __future__ import annotations

import pytest

from envlock.api import doctor
from envlock.checks.triage import top_finding
from envlock.pasted import facts_from_texts
from tests.conftest import FIXTURES

CE = FIXTURES / "collect_env"


@pytest.mark.parametrize("name", ["pytorch-186591.txt", "pytorch-100579.txt", "torchchat-1408.txt"])
def test_a_paste_says_torch_did_not_import_and_the_fix_looks_first(name: str) -> None:
    top = top_finding(doctor(facts=facts_from_texts(collect_env=(CE / name).read_text())).findings)
    assert top is not None and top.check_id == "EL-TORCH-MISSING"
    assert "not installed" not in top.message.split(":")[0], top.message
    assert "could not import torch" in top.message, top.message
    fix = top.fix or ""
    assert fix.index('python -c "import torch"') < fix.index("pip install torch"), fix
    assert "ModuleNotFoundError" in fix, fix
