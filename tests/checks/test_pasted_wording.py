"""What the doctor prints for a pasted report reads as English: no Python `None` where a
fact the paste did not give would go (found as a user: "nvcc at None is CUDA 11.8.89").
Over every tuning report of the corpus (the held-out part is scored only at the end)."""

from __future__ import annotations

import json
import re

import pytest

from envlock.checks import run_checks
from envlock.pasted import facts_from_texts
from tests.conftest import FIXTURES

CE = FIXTURES / "collect_env"
REPORTS = [
    CE / e["file"]
    for e in json.loads((CE / "corpus.json").read_text())["reports"]
    if "unreadable" not in e  # marked with why: envlock reads no report from it yet
]


@pytest.mark.parametrize("path", REPORTS, ids=lambda p: p.name)
def test_no_finding_says_none(path: object) -> None:
    facts = facts_from_texts(collect_env=path.read_text())  # type: ignore[attr-defined]
    texts = [(f.check_id, t) for f in run_checks(facts) for t in (f.message, f.fix) if t]
    assert [(c, t) for c, t in texts if re.search(r"\bNone\b", t)] == []
