"""detectron2's environment table reader (envlock/pasted/d2table.py) fuzzed: the real tables
(the corpus's detectron2 reports and a recorded Colab log) with rows dropped, duplicated,
cut, joined onto one line, keys repeated and random text; and lines of many keys, which a
wrap's undoing may produce. Each parse gives partial Facts or one FactsError line, within
the suite's per-example CPU bound (tests/fuzz/conftest.py): a super-linear path fails here."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envlock.checks import run_checks
from envlock.errors import FactsError
from envlock.pasted import facts_from_texts
from envlock.pasted.d2table import as_collect_env, looks_like_d2table, rows
from tests.conftest import FIXTURES
from tests.fuzz.pastes import LINE_EDITS, edit_lines
from tests.fuzz.test_fuzz import EXAMPLES, FUZZ

pytestmark = pytest.mark.fuzz

D2 = settings(FUZZ, deadline=None, max_examples=max(50, EXAMPLES // 5))
TABLES = [
    *sorted((FIXTURES / "collect_env").glob("detectron2-*.txt")),
    *sorted((FIXTURES / "d2table").glob("*.txt")),
]
KEYS = [
    "sys.platform",
    "Python",
    "detectron2 arch flags",
    "torchvision arch flags",
    "PyTorch",
    "PyTorch debug build",
    "GPU 0,1",
    "GPU available",
    "NVCC",
    "  - CUDA Runtime",
    "  - NVCC architecture flags:",
]


def _join(draw: st.DrawFn, lines: list[str], i: int) -> None:
    if i + 1 < len(lines):
        lines[i : i + 2] = [lines[i] + draw(st.sampled_from(["", " ", "  "])) + lines[i + 1]]
    else:  # nothing to join the last line with: a key instead
        _key(draw, lines, i)


def _key(draw: st.DrawFn, lines: list[str], i: int) -> None:
    value = draw(st.text(alphabet="0123456789., sm_@/-=;:arch()", max_size=40))
    lines.insert(i, f"{draw(st.sampled_from(KEYS))}  {value}")


EDITS = {**LINE_EDITS, "join": _join, "key": _key}


@st.composite
def mangled(draw: st.DrawFn) -> str:
    return edit_lines(draw, draw(st.sampled_from(TABLES)).read_text().splitlines(), 8, EDITS)


@D2
@given(mangled())
def test_mangled_tables(text: str) -> None:
    try:
        facts = facts_from_texts(collect_env=text)
    except FactsError as exc:
        assert "\n" not in str(exc)
        return
    run_checks(facts)


@D2
@given(st.lists(st.sampled_from(KEYS), min_size=1, max_size=2000), st.text(max_size=20))
def test_a_line_of_many_keys(keys: list[str], value: str) -> None:
    line = "".join(f"{k}  {value} " for k in keys)
    found = rows(line)
    assert len(found) <= len(keys)
    as_collect_env(line + "\nPyTorch built with:\n" + line)


@D2
@given(
    st.lists(st.sampled_from(["PyTorch", "torchvision", "detectron2"]), min_size=1, max_size=2000),
    st.sampled_from([" ", "  ", "\t\t", " " * 40, " " * 41]),
    st.text(alphabet="0123456789.+ @/\\C:", max_size=60),
)
def test_a_line_of_fragment_rows_almost_signed(keys: list[str], gap: str, value: str) -> None:
    """A fragment's sign (a version and an import path after the table's blanks) over a
    line of rows that almost carry it: bounded blanks and versions, linear."""
    line = "".join(f"{k}{gap}{value} " for k in keys)
    signed = looks_like_d2table(line)
    assert signed == looks_like_d2table(line + "\n")
    as_collect_env(line)
