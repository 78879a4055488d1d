"""Writes envlock/container/factshape.py: the Facts model's shape as data, computed from
the dataclasses (`python -m tests.container.factshape`). tests/container/test_document.py
checks that the file holds what this computes, so a change to the model that the file
does not follow fails there."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import types
import typing
from pathlib import Path

from envlock.facts import FACTS_VERSION, MAX_GPUS, MAX_INT_DIGITS, Facts
from envlock.typed import NAME_KEYS, dump

_CLASSES: dict[str, type] = {}  # a shape's name: its class (names must be unique)
TARGET = Path(__file__).resolve().parents[2] / "envlock" / "container" / "factshape.py"

HEADER = '''"""The Facts model's shape as data, so that `envlock probe --image` can hand a probe's
document through as the model would write it (envlock.container.document) without
importing the model (~50 ms before its first byte). Generated from envlock/facts/ by
`python -m tests.container.factshape`; tests/container/test_document.py holds it in step.

A shape: "bool", "int", "float", "str"; "@Name", the dataclass OBJECTS["Name"];
("?", shape), that or null; ("[]", shape), a list of it; ("{}", shape), an object of
string keys to it. A field: (name, shape) when the model requires it, (name, shape,
default) with the default as the model writes it.
"""

from __future__ import annotations

Shape = str | tuple[str, "Shape"]
Field = tuple[str, Shape] | tuple[str, Shape, object]

'''


def shape_of(hint: object, objects: dict[str, list[tuple[object, ...]]]) -> object:
    """The shape of a type hint of the model; a hint the walker does not know fails here."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        if len(inner) != 1 or len(args) != 2:
            raise TypeError(f"no shape for the union {hint!r}: teach envlock.container.document")
        return ("?", shape_of(inner[0], objects))
    if origin is list:
        return ("[]", shape_of(args[0], objects))
    if origin is dict and args[0] is str:
        return ("{}", shape_of(args[1], objects))
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        owner = _CLASSES.setdefault(hint.__name__, hint)
        if owner is not hint:
            raise TypeError(f"two dataclasses named {hint.__name__} in the Facts model")
        if hint.__name__ not in objects:
            objects[hint.__name__] = []  # before its fields: a class that nests itself
            objects[hint.__name__] = fields_of(hint, objects)
        return "@" + hint.__name__
    if hint in (bool, int, float, str):
        return hint.__name__  # type: ignore[union-attr]
    raise TypeError(f"no shape for {hint!r}: teach envlock.container.document")


def fields_of(cls: type, objects: dict[str, list[tuple[object, ...]]]) -> list[tuple[object, ...]]:
    hints = typing.get_type_hints(cls)
    out: list[tuple[object, ...]] = []
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        # NAME_KEYS renames keys only between snake_case and kebab-case: none in Facts.
        if f.metadata and dict(f.metadata) != NAME_KEYS:
            raise TypeError(f"{cls.__name__}.{f.name}: field metadata the walker does not know")
        shape = shape_of(hints[f.name], objects)
        if f.default is not dataclasses.MISSING:
            out.append((f.name, shape, dump(f.default)))
        elif f.default_factory is not dataclasses.MISSING:
            out.append((f.name, shape, dump(f.default_factory())))
        else:
            out.append((f.name, shape))
    return out


def computed() -> dict[str, object]:
    """What factshape.py must hold: its constants and OBJECTS, as plain data."""
    objects: dict[str, list[tuple[object, ...]]] = {}
    shape_of(Facts, objects)
    return {
        "FACTS_VERSION": FACTS_VERSION,
        "MAX_GPUS": MAX_GPUS,
        "MAX_INT_DIGITS": MAX_INT_DIGITS,
        "OBJECTS": {name: tuple(fields) for name, fields in sorted(objects.items())},
    }


def source() -> str:
    data = computed()
    lines = [HEADER]
    for name in ("FACTS_VERSION", "MAX_GPUS", "MAX_INT_DIGITS"):
        lines.append(f"{name} = {data[name]!r}\n")
    lines.append("OBJECTS: dict[str, tuple[Field, ...]] = {\n")
    objects = data["OBJECTS"]
    assert isinstance(objects, dict)
    for name, fields in objects.items():
        lines.append(f"    {name!r}: (\n")
        lines.extend(f"        {_literal(f)},\n" for f in fields)
        lines.append("    ),\n")
    lines.append("}\n")
    return "".join(lines)


def _literal(value: object) -> str:
    """A Python literal of plain data (JSON's null, true, false as None, True, False)."""
    if isinstance(value, tuple):
        return "(" + ", ".join(_literal(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_literal(k)}: {_literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (bool, type(None), int, float)):
        return repr(value)
    return json.dumps(value)


def main() -> int:
    TARGET.write_text(source(), encoding="utf-8")
    subprocess.run([sys.executable, "-m", "ruff", "format", "-q", str(TARGET)], check=True)
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
