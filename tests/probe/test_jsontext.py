"""probe/_jsontext.dumps_indented writes json.dumps(doc, indent=2)'s text, byte for byte,
without the json package: the probe's documents as they are recorded, generated JSON
values of every kind, and what json's encoder treats its own way (keys that are not str,
tuples, NaN, another type), which goes to json itself."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from envlock.probe import _jsontext
from envlock.probe._jsontext import dumps_indented
from tests.conftest import FIXTURES

FACTS = sorted(FIXTURES.glob("facts*.json")) + sorted(
    (FIXTURES.parent / "container" / "data").glob("facts*.json")
)

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
)
_keys = st.text() | st.integers() | st.floats() | st.booleans() | st.none()
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(), inner, max_size=5)
        | st.dictionaries(_keys, inner, max_size=3)
    ),
    max_leaves=30,
)


@pytest.mark.parametrize("path", FACTS, ids=lambda p: p.name)
def test_the_recorded_facts_are_written_as_json_writes_them(path: Path) -> None:
    doc = json.loads(path.read_text())
    assert dumps_indented(doc) == json.dumps(doc, indent=2)


def test_there_are_recorded_facts_to_compare() -> None:
    assert len(FACTS) >= 8


@given(_values)
def test_any_json_value_is_written_as_json_writes_it(doc: object) -> None:
    assert dumps_indented(doc) == json.dumps(doc, indent=2)


def test_what_json_spells_its_own_way() -> None:
    doc = {
        "nan": math.nan,
        "inf": [math.inf, -math.inf],
        "empty": [{}, [], ""],
        "text": 'caf\u00e9 \U0001f600 "q" \\ \n\t\x00',
        "big": 2**80,
        "tuple": (1, (2, 3)),
        "bool": [True, False, None],
        "float": [0.1, 1e100, -0.0, 3.0],
    }
    assert dumps_indented(doc) == json.dumps(doc, indent=2)
    assert dumps_indented("top") == '"top"' and dumps_indented(7) == "7"


def test_keys_json_converts_go_through_json() -> None:
    doc = {3: "a", None: "b", True: [], 2.5: {}, "s": 1}
    assert dumps_indented(doc) == json.dumps(doc, indent=2)


def test_a_value_json_cannot_write_fails_as_in_json() -> None:
    with pytest.raises(TypeError, match="not JSON serializable"):
        dumps_indented({"x": object()})
    cycle: list[object] = []
    cycle.append(cycle)
    with pytest.raises(ValueError, match="Circular reference"):
        dumps_indented(cycle)


def test_without_json_s_accelerator_json_writes_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_jsontext, "_quote", None)
    doc = {"a": [1, 2.5, "\u00e9"]}
    assert dumps_indented(doc) == json.dumps(doc, indent=2)
