"""The image probe's document handed through without the Facts model
(envlock.container.document) against the model itself, on recorded probe outputs with
a value replaced, a key removed or one added anywhere: the walk writes the model's bytes,
or hands the document to the model (None), and never accepts what the model refuses."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envlock.container.document import image_document, image_fields
from envlock.container.parse import facts_from_json, with_image
from envlock.errors import ContainerError
from envlock.facts import ImageFacts
from tests.conftest import FIXTURES
from tests.container.conftest import DATA, load_data_json
from tests.fuzz.test_fuzz import EXAMPLES, FUZZ

pytestmark = pytest.mark.fuzz

DOCS = [
    json.loads(p.read_text())
    for p in sorted([*FIXTURES.glob("facts.*.json"), *DATA.glob("facts.*.json")])
]
IMAGE = image_fields(
    "python:3.11",
    load_data_json("docker-image-inspect.python-bookworm.json"),
    kind="image",
    shm_size_bytes=64 << 20,
    gpus_requested=None,
    gpu_request_error=None,
    probe_mode="python",
)

json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**25), max_value=10**25),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=12),
        st.sampled_from([0, 1, 1.0, "", [], {}, "1"]),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def _paths(value: object, path: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Every place in a document: the keys and indexes that lead to it."""
    out = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*path, i))
    return out


@st.composite
def mutated(draw: st.DrawFn) -> str:
    doc = json.loads(json.dumps(draw(st.sampled_from(DOCS))))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(doc)[1:]))
        parent = doc
        for step in path[:-1]:
            parent = parent[step]
        how = draw(st.sampled_from(["replace", "remove", "add"]))
        if how == "remove" and isinstance(parent, dict):
            del parent[path[-1]]
        elif how == "add" and isinstance(parent, dict):
            parent[draw(st.text(max_size=10))] = draw(json_values)
        else:
            parent[path[-1]] = draw(json_values)
    return json.dumps(doc)


def _model(text: str, notes: list[str]) -> str | None:
    try:
        facts = facts_from_json(text, "image x")
    except ContainerError:
        return None
    return with_image(facts, ImageFacts(**IMAGE), notes, []).to_json()


@settings(FUZZ, deadline=None, max_examples=max(EXAMPLES, 200))
@given(mutated(), st.lists(st.text(max_size=8), max_size=2))
def test_the_walk_writes_the_models_bytes_or_leaves_it_to_the_model(
    text: str, notes: list[str]
) -> None:
    doc = image_document(text, IMAGE, notes, [])
    model = _model(text, notes)
    if model is None:
        assert doc is None  # never accepts what the model refuses
    elif doc is not None:
        assert json.dumps(doc, indent=2) == model


def test_a_string_changed_anywhere_is_still_handed_through() -> None:
    """The walk is exercised, not only its refusals: any one string of a recorded
    document replaced by another keeps a document both write alike."""
    for original in DOCS:
        for path in _paths(original)[1:]:
            doc = json.loads(json.dumps(original))
            parent = doc
            for step in path[:-1]:
                parent = parent[step]
            if not isinstance(parent[path[-1]], str):
                continue
            parent[path[-1]] = "x\u00e9"
            text = json.dumps(doc)
            written = image_document(text, IMAGE, [], [])
            assert written is not None, path
            assert json.dumps(written, indent=2) == _model(text, []), path
