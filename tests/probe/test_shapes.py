"""probe/shapes.py (the facts document as TypedDicts, for the type checker) says what the
Facts model says: the same sections, the same keys, the same types, each nested
dataclass its own TypedDict. A field added to, renamed in or retyped in the model
without its shape fails here."""

from __future__ import annotations

import dataclasses
import re
import typing

from envlock.facts import model
from envlock.probe import shapes

# the sections the host adds, never the probe
HOST_ONLY = {"image", "determinism"}


def _shape_name(cls: type) -> str:
    return "FactsDoc" if cls is model.Facts else cls.__name__.replace("Facts", "Doc")


def _as_shape(annotation: str) -> str:
    """A model annotation ("list[GpuFacts] | None") as the shape writes it."""
    return re.sub(r"\b\w*Facts\b", lambda m: _shape_name(getattr(model, m.group())), annotation)


def _dataclasses_under(cls: type, found: dict[str, type]) -> dict[str, type]:
    found[_shape_name(cls)] = cls
    for hint in typing.get_type_hints(cls).values():
        for arg in [
            hint,
            *typing.get_args(hint),
            *sum((typing.get_args(a) for a in typing.get_args(hint)), ()),
        ]:
            if dataclasses.is_dataclass(arg) and _shape_name(arg) not in found:
                _dataclasses_under(arg, found)  # type: ignore[arg-type]
    return found


def _annotations(shape: type) -> dict[str, str]:
    return {k: getattr(v, "__forward_arg__", v) for k, v in shape.__annotations__.items()}


def test_every_probe_section_has_its_shape_key_for_key() -> None:
    classes = _dataclasses_under(model.Facts, {})
    for name, cls in classes.items():
        if name in ("ImageDoc", "DeterminismDoc", "DigestClassDoc", "DigestSummary"):
            continue
        shape = getattr(shapes, name, None)
        assert shape is not None, f"probe/shapes.py has no {name} for {cls.__name__}"
        want = {
            f.name: _as_shape(str(f.type))
            for f in dataclasses.fields(cls)
            if not (cls is model.Facts and f.name in HOST_ONLY)
        }
        assert _annotations(shape) == want, name
        assert shape.__total__ is False, name


def test_a_renamed_field_fails() -> None:
    @dataclasses.dataclass
    class OsFacts:
        id: str | None = None
        version: str | None = None  # renamed from version_id
        pretty_name: str | None = None

    fields = {f.name: str(f.type) for f in dataclasses.fields(OsFacts)}
    assert fields != _annotations(shapes.OsDoc)
