"""report/printer.py against rich itself: any line, styled in parts, printed off a terminal
without rich is what rich prints there (or is left to rich)."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envlock.report import printer
from envlock.report.printer import Line, Printer
from tests.fuzz.terminal import plain_terminal
from tests.fuzz.test_fuzz import EXAMPLES, FUZZ

pytestmark = pytest.mark.fuzz

# what reports hold: text, line breaks, blanks at the ends, tabs, control characters,
# wide and combining characters, markup and emoji codes that must stay text
_TEXT = st.lists(
    st.one_of(
        st.sampled_from(
            ["\n", " ", "  ", "\t", "\r", "\x1b", "[b]", ":smile:", "\u0301", "\uff37"]
        ),
        st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8),
    ),
    max_size=12,
).map("".join)
_STYLE = st.sampled_from([None, "bold", "dim", "bold red", "green"])
_SPANS = st.lists(st.tuples(_TEXT, _STYLE), min_size=1, max_size=4)


def _print(spans: list[tuple[str, str | None]], soft_wrap: bool, *, rich: bool) -> str:
    out = io.StringIO()
    (text, style), *rest = spans
    line = Line(text, style=style)
    for more, more_style in rest:
        line.append(more, style=more_style)
    saved = printer._rich_only
    if rich:
        printer._rich_only = lambda out: True
    try:
        Printer(out).print(line, soft_wrap=soft_wrap)
    finally:
        printer._rich_only = saved
    return out.getvalue()


@settings(FUZZ, deadline=None, max_examples=EXAMPLES)
@given(_SPANS, st.booleans(), st.sampled_from([None, "12", "80"]))
def test_a_line_prints_as_rich_prints_it(
    spans: list[tuple[str, str | None]], soft_wrap: bool, columns: str | None
) -> None:
    with plain_terminal(columns):
        assert _print(spans, soft_wrap, rich=False) == _print(spans, soft_wrap, rich=True)
