"""The paste readers' fuzz harness (tests/fuzz/pastes.py) fails a slow reader: a deliberately
quadratic one (a search whose every start position reads on to the line's end, the cost of a
backtracking pattern on a failing line) trips the adversarial line's CPU bound and, in a
property built from the harness's strategies, the per-example bound tests/fuzz/conftest.py
puts on every Hypothesis test (tests/fuzz/cpubound.py); a linear reader of the same lines
passes both. The bounds here are tighter than the suite's so that the slow reader is stopped
in well under a second: at 32,000 characters it spends some 10x the bound, the linear one a
thousandth of it."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from envlock.pasted.draft import Draft
from envlock.pasted.torch_warnings import torch_warnings
from tests.fuzz.cpubound import bounded
from tests.fuzz.pastes import (
    PASTE,
    adversarial_line,
    assert_in_bound,
    cut_list,
    mangle,
    real_lines,
)

pytestmark = pytest.mark.fuzz

_QUADRATIC = re.compile(r"a*=")
# a line of 'a's without the '=' the search looks for
CASE = ("torch ", "a", "b")
SIZE = 32_000
BOUND_S = 0.05


def _quadratic(text: str) -> object:
    return _QUADRATIC.search(text)


def _linear(text: str) -> object:
    return text.find("=")


def _one_line(text: str) -> object:
    return torch_warnings(text, Draft())


def test_a_quadratic_reader_fails_the_adversarial_bound() -> None:
    line = adversarial_line(CASE, SIZE)
    with pytest.raises(AssertionError, match=r"over 0\.05 s of CPU .*'_quadratic'") as caught:
        assert_in_bound([_linear, _quadratic], line, "a quadratic reader", bound_s=BOUND_S)
    assert "_linear" not in str(caught.value)


def test_linear_readers_of_the_same_line_pass_it() -> None:
    assert_in_bound([_linear, _one_line], adversarial_line(CASE, SIZE), "linear", BOUND_S)


def _property(reader: Callable[[str], object]) -> Callable[[], None]:
    """A mangled-lines property as the paste fuzz files write it, over one reader, with the
    per-example CPU bound tests/fuzz/conftest.py gives a collected test (here tighter)."""

    @settings(PASTE, max_examples=2, phases=[Phase.generate], database=None)
    @given(
        lines=real_lines(["a" * 80], 2),
        cuts=cut_list(st.sampled_from(["a", "aa"]), 40),
    )
    def prop(lines: list[str], cuts: list[tuple[int, int, str]]) -> None:
        text = mangle(lines, cuts).replace("\n", "")
        reader(text * (SIZE // len(text)))  # a long line, without a repr too long to report

    inner = prop.hypothesis.inner_test  # type: ignore[attr-defined]
    prop.hypothesis.inner_test = bounded(inner, bound_s=BOUND_S)  # type: ignore[attr-defined]
    return prop  # type: ignore[no-any-return]


def test_a_property_over_a_quadratic_reader_fails_its_example_bound() -> None:
    with pytest.raises(AssertionError, match="of CPU"):
        _property(_quadratic)()


def test_the_same_property_over_a_linear_reader_passes() -> None:
    _property(_linear)()
