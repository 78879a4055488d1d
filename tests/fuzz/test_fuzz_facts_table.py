"""report/facts_table.py against rich itself: any facts document, printed off a terminal
without rich, is what rich prints there (or is left to rich)."""

from __future__ import annotations

import copy
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envlock.report import facts_table
from tests.fuzz.terminal import plain_terminal
from tests.fuzz.test_fuzz import EXAMPLES, FUZZ
from tests.lock.facts_fixtures import rich_facts

pytestmark = pytest.mark.fuzz

_BASE = rich_facts().to_dict()
# fewer rows than the recording (rich lays out each example twice): the same kinds of row
_BASE["packages"]["distributions"] = dict(list(_BASE["packages"]["distributions"].items())[:3])  # type: ignore[index]
_BASE["torch"]["live"]["loaded_libraries"] = _BASE["torch"]["live"]["loaded_libraries"][:2]  # type: ignore[index]
# what a machine may hold: plain ASCII mostly, blanks at the ends, tabs, control,
# wide and combining characters, markup that must stay text
_TEXT = st.one_of(
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=30),
    st.lists(
        st.one_of(
            st.sampled_from([" ", "  ", "\t", "\n", "\x1b", "[b]", "\u0301", "\uff37", "é"]),
            st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=6),
        ),
        max_size=8,
    ).map("".join),
)


@settings(FUZZ, deadline=None, max_examples=EXAMPLES)
@given(
    st.dictionaries(_TEXT, _TEXT, max_size=6),
    st.lists(_TEXT, max_size=3),
    st.one_of(st.none(), _TEXT),
    st.sampled_from([None, "30", "120"]),
    st.booleans(),
)
def test_the_tables_print_as_rich_prints_them(
    variables: dict[str, str],
    gpu_names: list[str],
    unavailable: str | None,
    columns: str | None,
    partial: bool,
) -> None:
    doc = copy.deepcopy(_BASE)
    doc["env"]["variables"] = variables  # type: ignore[index]
    gpus = doc["driver"]["gpus"]  # type: ignore[index]
    doc["driver"]["gpus"] = [dict(gpus[0], name=name, index=i) for i, name in enumerate(gpu_names)]  # type: ignore[index]
    doc["packages"]["unavailable"] = unavailable  # type: ignore[index]
    doc["env"]["unavailable"] = unavailable  # type: ignore[index]
    doc["env"]["redacted"] = []  # type: ignore[index]
    doc["meta"]["partial"] = partial  # type: ignore[index]
    with plain_terminal(columns):
        out, by_rich = io.StringIO(), io.StringIO()
        facts_table.render_facts(doc, out)  # type: ignore[arg-type]
        facts_table.rich_render(*facts_table.contents(doc), by_rich)  # type: ignore[arg-type]
    assert out.getvalue() == by_rich.getvalue()
