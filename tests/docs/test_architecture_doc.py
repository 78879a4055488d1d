"""ARCHITECTURE.md names real files: every test file its untrusted-input table says holds
a bound exists, and so does every module it names (a renamed file breaks this test, not
the page's promise)."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOC = (REPO / "ARCHITECTURE.md").read_text()


def _table(heading: str) -> str:
    start = DOC.index(heading)
    end = DOC.find("\n## ", start)
    return DOC[start : end if end != -1 else None]


def test_every_test_file_named_exists() -> None:
    named = set(re.findall(r"`(tests/[\w/]+\.py)`", DOC))
    assert named, "no test file named"
    assert sorted(p for p in named if not (REPO / p).is_file()) == []


def test_every_module_in_the_untrusted_input_table_exists() -> None:
    table = _table("### Every untrusted input")
    rows = [ln for ln in table.splitlines() if ln.startswith("| ") and "---" not in ln][1:]
    assert len(rows) >= 10
    for row in rows:
        cells = row.split("|")
        assert len(cells) == 6, row  # input | read by | bound | held by
        modules = re.findall(r"`([\w/.]+\.py)`", cells[2])
        for mod in modules:
            assert (REPO / "envlock" / mod).is_file() or (REPO / mod).is_file(), mod
        assert re.search(r"`tests/[\w/]+\.py`", cells[4]) or cells[4].strip() == "same", row
