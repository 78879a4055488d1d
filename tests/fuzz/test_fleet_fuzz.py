"""The fleet's facts-file decoding fuzzed against the reference (issue 20 item 4).

A recorded probe (tests/fleet/nodes.py's node file) with random edits: any value replaced
by any JSON value (integers around the 100-digit bound, NaN, infinities, surrogates,
nested tables), keys deleted, unknown keys added, written compact or indented, ASCII or
not. Then:

- `fast_facts` (msgspec) reads a document only as the reference (`Facts.from_dict` over
  `load_json`) reads it, the same Facts, float for float; whatever it leaves to the
  reference is the reference's to read or refuse;
- two documents of one node-view kind are the same Facts but for per-node values (the
  oracle here names the per-node paths itself), so a shared summary is never wrong;
  documents that differ only in per-node values are one kind;
- the sampled digit-run check agrees with a plain regular expression.
"""

from __future__ import annotations

import copy
import json
import re
from functools import cache
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from envlock.errors import FactsError
from envlock.facts import MAX_INT_DIGITS, Facts, _long_digit_run, fast_facts, load_json
from envlock.fleet.files import node_view
from tests.fleet.nodes import FIXTURE, node_doc
from tests.fuzz.test_fuzz import EXAMPLES, FUZZ

pytestmark = pytest.mark.fuzz

# each example runs the reference (~4 ms a document) once or twice
FLEET_FUZZ = settings(FUZZ, deadline=None, max_examples=max(50, EXAMPLES // 10))


@cache
def _base() -> dict[str, Any]:
    return node_doc(FIXTURE.read_text(), 3, "gpu-node-003")


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every value's path in a document (tables and lists included)."""
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


@cache
def _all_paths() -> list[tuple[Any, ...]]:
    return _paths(_base())


BOUND = 10**MAX_INT_DIGITS
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-BOUND * 10, max_value=BOUND * 10),
    st.sampled_from([BOUND - 1, BOUND, -BOUND, 2**53 + 1, 10**300, -0]),
    st.floats(),  # NaN and the infinities too: json writes and reads them, msgspec refuses
    st.text(max_size=8),
    st.sampled_from(["\ud800", "\x00", "é", "\u2028", "\\", '"']),
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)


def _set(doc: Any, path: tuple[Any, ...], value: Any) -> None:
    for p in path[:-1]:
        doc = doc[p]
    doc[path[-1]] = value


def _delete(doc: Any, path: tuple[Any, ...]) -> None:
    for p in path[:-1]:
        doc = doc[p]
    del doc[path[-1]]


# Where Facts has per-node values in the recorded file, and values of their types.
PER_NODE_PATHS = [
    ("system", "hostname"),
    ("meta", "collected_at"),
    ("meta", "durations_ms"),
    ("driver", "gpus", 0, "uuid"),
    ("torch", "live", "import_seconds"),
]
per_node_value = st.one_of(
    st.none(),
    st.text(max_size=20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.dictionaries(st.text(max_size=4), st.floats(allow_nan=False), max_size=3),
)


@st.composite
def edited(draw: st.DrawFn, layout: bool = False) -> Any:
    """A edited document's bytes (with `layout`: and the json.dumps options it was written with)."""
    doc = copy.deepcopy(_base())
    for _ in range(draw(st.integers(1, 3))):
        what = draw(st.sampled_from(["set", "delete", *["per-node", "unknown key"] * 2]))
        paths = PER_NODE_PATHS if what == "per-node" else _all_paths()
        path = draw(st.sampled_from(paths))
        try:
            parent: Any = doc
            for p in path[:-1]:
                parent = parent[p]
            parent[path[-1]]  # an earlier edit may have removed it
        except (KeyError, IndexError, TypeError):
            continue
        if what == "set":
            _set(doc, path, draw(json_values))
        elif what == "per-node":
            _set(doc, path, draw(per_node_value | json_values))
        elif what == "delete" and isinstance(parent, dict):
            _delete(doc, path)
        elif isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=6))] = draw(json_values)
    options = {
        "indent": draw(st.sampled_from([None, 2])),
        "ensure_ascii": draw(st.booleans()),
        "separators": draw(st.sampled_from([None, (",", ":")])),
    }
    raw = json.dumps(doc, **options).encode("utf-8", "surrogatepass")
    return (raw, options) if layout else raw


def _reference(raw: bytes) -> Facts | str:
    try:
        return Facts.from_dict(load_json(raw))
    except FactsError as exc:
        return str(exc)


@FLEET_FUZZ
@given(raw=edited())
def test_fast_facts_reads_only_as_the_reference_reads(raw: bytes) -> None:
    fast = fast_facts(raw)
    if fast is None:
        return  # the reference reads it or refuses it: its outcome is the node's
    ref = _reference(raw)
    assert isinstance(ref, Facts), f"msgspec read what the reference refuses: {ref}"
    assert fast == ref
    assert fast.to_json() == ref.to_json()  # -0.0, int vs float: equal is not enough


def _without_per_node(facts: Facts) -> dict[str, Any]:
    """The oracle: Facts as a dict without the values that differ between identical nodes."""
    d = facts.to_dict()
    for section, key in (
        ("meta", "collected_at"),
        ("meta", "durations_ms"),
        ("system", "hostname"),
        ("determinism", "seconds"),
    ):
        if isinstance(d.get(section), dict):
            d[section].pop(key, None)
    for gpu in d["driver"].get("gpus") or []:
        gpu.pop("uuid", None)
    if d["torch"].get("live"):
        d["torch"]["live"].pop("import_seconds", None)
    if d.get("determinism"):
        for cls in d["determinism"]["classes"].values():
            cls.pop("seconds", None)
    return d


def _base_kind(options: dict[str, Any]) -> bytes:
    """The recorded file's kind, written as the edited one was (layout is part of a kind)."""
    view = node_view(json.dumps(_base(), **options).encode())
    assert view is not None
    return view.kind


@FLEET_FUZZ
@given(edit=edited(layout=True))
def test_one_kind_of_node_is_one_facts_but_for_per_node_values(edit: Any) -> None:
    raw, options = edit
    view = node_view(raw)
    if view is None or view.kind != _base_kind(options):
        return
    ref = _reference(raw)
    assert isinstance(ref, Facts), f"a file sharing a summary is not valid: {ref}"
    assert _without_per_node(ref) == _without_per_node(Facts.from_dict(_base()))


per_node_values = st.fixed_dictionaries(
    {
        "hostname": st.none() | st.text(max_size=20),
        "collected_at": st.text(max_size=30),
        "durations_ms": st.dictionaries(
            st.text(max_size=8), st.floats(allow_nan=False, allow_infinity=False), max_size=8
        ),
        "uuid": st.none() | st.text(max_size=40),
        "import_seconds": st.none() | st.floats(allow_nan=False, allow_infinity=False),
    }
)


@FLEET_FUZZ
@given(values=per_node_values, indent=st.sampled_from([None, 2]))
def test_files_that_differ_in_per_node_values_only_are_one_kind(
    values: dict[str, Any], indent: int | None
) -> None:
    doc = copy.deepcopy(_base())
    doc["system"]["hostname"] = values["hostname"]
    doc["meta"]["collected_at"] = values["collected_at"]
    doc["meta"]["durations_ms"] = values["durations_ms"]
    for gpu in doc["driver"]["gpus"]:
        gpu["uuid"] = values["uuid"]
    doc["torch"]["live"]["import_seconds"] = values["import_seconds"]
    raw = json.dumps(doc, indent=indent).encode()
    view = node_view(raw)
    assert view is not None and (view.host or None) == (values["hostname"] or None)
    # the kind is of the content, not of the layout: an indented base file is the same kind
    base = node_view(json.dumps(_base(), indent=indent).encode())
    assert base is not None and view.kind == base.kind


digit_text = st.lists(
    st.one_of(
        st.integers(0, 2 * MAX_INT_DIGITS).map(lambda n: "7" * n),
        st.text(alphabet='0123456789a "-.,{}', max_size=30),
    ),
    max_size=12,
).map(lambda parts: "x".join(parts).encode())


@FLEET_FUZZ
@given(raw=digit_text)
@example(raw=b"1" * (MAX_INT_DIGITS + 1))
@example(raw=b"a" + b"1" * (MAX_INT_DIGITS + 1) + b"a")
@example(raw=b"1" * MAX_INT_DIGITS)
def test_the_sampled_digit_check_is_the_plain_one(raw: bytes) -> None:
    plain = re.search(rb"[0-9]{%d}" % (MAX_INT_DIGITS + 1), raw) is not None
    assert _long_digit_run(raw) == plain
