"""reportcache's key material: any change to a facts document but when and how long it was
probed is another key; the same document, however its keys are ordered, is the same key."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envlock import reportcache
from tests.fuzz.test_fuzz import EXAMPLES, FUZZ

pytestmark = pytest.mark.fuzz

_SCALAR = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=8)
)
_JSON = st.recursive(
    _SCALAR,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=20,
)
_DOC = st.fixed_dictionaries(
    {
        "meta": st.fixed_dictionaries(
            {"collected_at": st.text(max_size=8), "durations_ms": _JSON, "notes": _JSON}
        ),
        "driver": _JSON,
        "torch": _JSON,
    }
)


def _reordered(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _reordered(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [_reordered(v) for v in value]
    return value


@settings(FUZZ, deadline=None, max_examples=EXAMPLES)
@given(_DOC, _JSON, st.text(max_size=8), _JSON)
def test_only_the_volatile_meta_is_left_out(
    doc: dict[str, Any], other: Any, when: str, durations: Any
) -> None:
    same = _reordered(json.loads(json.dumps(doc)))
    same["meta"]["collected_at"], same["meta"]["durations_ms"] = when, durations
    assert reportcache.document_bytes(same) == reportcache.document_bytes(doc)
    for section in ("driver", "torch"):
        if other != doc[section]:
            changed = {**doc, section: other}
            assert reportcache.document_bytes(changed) != reportcache.document_bytes(doc)
    if other != doc["meta"]["notes"]:
        noted = {**doc, "meta": {**doc["meta"], "notes": other}}
        assert reportcache.document_bytes(noted) != reportcache.document_bytes(doc)
