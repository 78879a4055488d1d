"""A collect_env paste from an interpreter where torch does not import ('PyTorch version:
N/A') says torch is absent there, which the doctor reports (EL-TORCH-MISSING); a paste that
holds no torch line says nothing about torch (unknown: no finding). torchchat-1408 (s6
held-out miss): torch's install pinned a nightly that had vanished, collect_env ran anyway."""

from __future__ import annotations

from envlock.api import doctor
from envlock.checks.triage import top_finding
from envlock.pasted import facts_from_texts
from tests.conftest import FIXTURES

CE = FIXTURES / "collect_env"


def test_pytorch_version_na_is_torch_missing() -> None:
    facts = facts_from_texts(collect_env=(CE / "torchchat-1408.txt").read_text())
    assert facts.torch.installed is False and facts.torch.unavailable is None
    report = doctor(facts=facts)
    top = top_finding(report.findings)
    assert top is not None and top.check_id == "EL-TORCH-MISSING"
    assert "Python 3.12.3" in top.message
    # the paste names no interpreter path: the fix's command runs, not "the checked ..."
    assert top.fix is not None and "(python -m pip install torch)" in top.fix


def test_a_paste_without_a_torch_line_is_not_torch_missing() -> None:
    """Unknown is not absent: the excerpt starts after collect_env's torch lines."""
    text = (CE / "torchchat-1408.txt").read_text()
    cut = "\n".join(line for line in text.split("\n") if "N/A" not in line)
    facts = facts_from_texts(collect_env=cut)
    assert facts.torch.unavailable is not None
    ids = [f.check_id for f in doctor(facts=facts).findings]
    assert "EL-TORCH-MISSING" not in ids
