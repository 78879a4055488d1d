"""pasted/python_paths.python_from_paths on random text and on paths it builds: never raises,
answers None or the one Python every versioned site-packages path names, and stays in the fuzz
deadline on a long adversarial line (one linear pass).
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envlock.pasted.python_paths import python_from_paths
from tests.fuzz.test_fuzz import EXAMPLES, FUZZ

pytestmark = pytest.mark.fuzz

_ANSWER = re.compile(r"3\.\d{1,2}")


@settings(FUZZ, deadline=None, max_examples=min(EXAMPLES, 300))
@given(text=st.text(alphabet=st.characters(codec="utf-8"), max_size=400))
def test_random_text_answers_none_or_a_python(text: str) -> None:
    got = python_from_paths(text)
    assert got is None or _ANSWER.fullmatch(got), got


@settings(FUZZ, deadline=None, max_examples=min(EXAMPLES, 300))
@given(
    minors=st.lists(st.integers(min_value=0, max_value=99), min_size=1, max_size=4),
    prose=st.lists(st.text(alphabet="abc /:.\\-_\n", max_size=20), min_size=4, max_size=4),
    windows=st.booleans(),
)
def test_built_paths_give_their_python(minors: list[int], prose: list[str], windows: bool) -> None:
    paths = [
        (
            f"C:\\Python3{m}\\Lib\\site-packages\\x"
            if windows
            else f"/env/lib/python3.{m}/site-packages/x"
        )
        for m in minors
    ]
    text = "".join(p + " " + prose[i % 4] + "\n" for i, p in enumerate(paths))
    got = python_from_paths(text)
    if len(set(minors)) == 1:
        assert got == f"3.{minors[0]}"
    else:
        assert got is None


@settings(FUZZ, deadline=None, max_examples=5)
@given(repeat=st.integers(min_value=50_000, max_value=120_000))
def test_a_long_adversarial_line_stays_in_the_deadline(repeat: int) -> None:
    line = "python3." * repeat + "python3.1" + "1/" * repeat
    assert python_from_paths(line) is None
