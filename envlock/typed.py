"""Typed trees: frozen dataclasses <-> plain JSON/TOML data, with errors naming a dotted path.

Two documents use it: Facts (JSON, snake_case keys, envlock/facts.py) and the
lock (TOML, kebab-case keys, envlock/lock/). The key style is a parameter,
so snake_case <-> kebab-case conversion happens here and nowhere else.

A dict field whose keys are themselves field-like names (the determinism
context: `compute_capability` in Facts, `compute-capability` in the lock)
is marked with `field(metadata=NAME_KEYS)`; other dict keys (package names,
environment variables) are data and are never converted.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from typing import Any, TypeVar, Union

T = TypeVar("T")

NAME_KEYS = {"envlock.name-keys": True}

_HINTS: dict[type, dict[str, object]] = {}  # field name -> its type hint


def kebab(name: str) -> str:
    return name.replace("_", "-")


def snake(name: str) -> str:
    return name.replace("-", "_")


def _same(name: str) -> str:
    return name


def _hints(cls: type) -> dict[str, object]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _name_keys(f: dataclasses.Field[Any]) -> bool:
    return bool(f.metadata.get("envlock.name-keys"))


class Reader:
    """Builds dataclasses from plain data. `key` maps a field name to its document key;
    `error` is the exception raised (FactsError, LockError); unknown keys are skipped,
    or collected into `unknown` (dotted path -> value) when it is given."""

    def __init__(
        self,
        *,
        error: type[Exception],
        key: Callable[[str], str] = _same,
        unknown: dict[str, object] | None = None,
    ) -> None:
        self.error = error
        self.key = key
        self.unknown = unknown

    def build(self, cls: type[T], data: Any, path: str = "") -> T:
        if not isinstance(data, dict):
            raise self.error(
                f"in '{path or '<root>'}': expected {_table(self)}, got {self.kind(data)}"
            )
        hints = _hints(cls)
        kwargs: dict[str, object] = {}
        known: set[str] = set()
        for f in dataclasses.fields(cls):  # type: ignore[arg-type]
            name = self.key(f.name)
            known.add(name)
            if name not in data:
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                    what = "key" if self.key is kebab else "field"
                    raise self.error(f"in '{join(path, name)}': required {what} is missing")
                continue
            value = self.convert(hints[f.name], data[name], join(path, name))
            if _name_keys(f) and isinstance(value, dict):
                value = {snake(k) if self.key is kebab else k: v for k, v in value.items()}
            kwargs[f.name] = value
        if self.unknown is not None:
            for name in data:
                if name not in known:
                    self.unknown[join(path, str(name))] = data[name]
        return cls(**kwargs)

    def kind(self, value: Any) -> str:
        return _table(self) if isinstance(value, dict) else kind(value)

    def convert(self, hint: Any, value: Any, path: str) -> Any:
        origin = typing.get_origin(hint)
        if origin in (Union, types.UnionType):
            return self._union(hint, value, path)
        if origin in (list, tuple):
            if not isinstance(value, list):
                raise self.error(f"in '{path}': expected a list, got {self.kind(value)}")
            item = typing.get_args(hint)[0]
            items = [self.convert(item, v, f"{path}[{i}]") for i, v in enumerate(value)]
            return items if origin is list else tuple(items)
        if origin is dict:
            if not isinstance(value, dict):
                raise self.error(f"in '{path}': expected {_table(self)}, got {self.kind(value)}")
            _, item = typing.get_args(hint)
            return {str(k): self.convert(item, v, f"{path}.{k}") for k, v in value.items()}
        if dataclasses.is_dataclass(hint):
            return self.build(hint, value, path)  # type: ignore[arg-type]
        if _accepts(hint, value):
            return float(value) if hint is float else value
        want = _WANT.get(hint, getattr(hint, "__name__", str(hint)))
        raise self.error(f"in '{path}': expected {want}, got {self.kind(value)}")

    def _union(self, hint: Any, value: Any, path: str) -> Any:
        """`X | None`: None, or an X; `X | Y`: the first of them that accepts the value."""
        args = typing.get_args(hint)
        if value is None:
            if type(None) in args:
                return None
            raise self.error(f"in '{path}': must not be null")
        inner = [a for a in args if a is not type(None)]
        if len(inner) == 1:
            return self.convert(inner[0], value, path)
        for a in inner:  # e.g. int | str: the first that accepts
            try:
                return self.convert(a, value, path)
            except self.error:
                continue
        raise self.error(f"in '{path}': unexpected {self.kind(value)}")


def _accepts(hint: Any, value: Any) -> bool:
    """Whether a plain value is of a scalar hint (bool, int, float, str, Any): a bool is
    never an int or a float, an int is a float."""
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    return hint is Any


def dump(
    value: Any,
    *,
    key: Callable[[str], str] = _same,
    prune: bool = False,
    skip: Callable[[dataclasses.Field[Any]], bool] | None = None,
) -> Any:
    """Plain data for `value`. `prune` drops None values and empty tables (TOML has no
    null); `skip` leaves out dataclass fields (e.g. timings the lock never holds)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _dump_fields(value, key, prune, skip)
    if isinstance(value, (list, tuple)):
        return [dump(v, key=key, prune=prune, skip=skip) for v in value]
    if isinstance(value, dict):
        items = {k: dump(v, key=key, prune=prune, skip=skip) for k, v in value.items()}
        if prune:
            items = {k: v for k, v in items.items() if v is not None and v != {}}
        return items
    return value


def _dump_fields(
    value: Any,
    key: Callable[[str], str],
    prune: bool,
    skip: Callable[[dataclasses.Field[Any]], bool] | None,
) -> dict[str, object]:
    """A dataclass's fields as a table (see dump)."""
    out: dict[str, object] = {}
    for f in dataclasses.fields(value):
        if skip is not None and skip(f):
            continue
        v = dump(getattr(value, f.name), key=key, prune=prune, skip=skip)
        if _name_keys(f) and isinstance(v, dict):
            v = {key(k): x for k, x in v.items()}
        if prune and (v is None or v == {}):
            continue
        out[key(f.name)] = v
    return out


_WANT = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}


def join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def kind(value: Any) -> str:
    if value is None:
        return "null"
    return {
        dict: "a table",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        int: "an integer",
        float: "a float",
    }.get(type(value), type(value).__name__)


def _table(reader: Reader) -> str:
    return "a table" if reader.key is kebab else "an object"
