"""Dotted fields of a lock: what verify compares and fleet groups by.

`torch.cuda`, `hardware.gpus[0].name`, `packages.numpy`: tables become dots,
arrays of tables become indices, arrays of values stay values. `flatten` reads the
typed Lock field by field, with the keys, order and values `Lock.to_dict()` writes
(no None, no empty tables, lists for tuples), without building that table first.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

from envlock.lock.fields import lock_fields
from envlock.lock.model import Lock
from envlock.lock.version import LockVersion


def flatten_table(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in table.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            out.update(flatten_table(value, path))
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for i, item in enumerate(value):
                out.update(flatten_table(item, f"{path}[{i}]"))
        else:
            out[path] = value
    return out


def flatten(
    lock: Lock, *, scope: str = "full", without: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """The lock's comparable fields under `scope` (software: no driver or hardware), but
    for the sections keyed in `without` (verify leaves out those equal on both sides)."""
    sections, skipped = _sections(scope == "software")
    if lock.unknown:
        # keys this model does not know go where the file had them: the written table
        table = lock.to_dict()
        return flatten_table({k: v for k, v in table.items() if k not in skipped | without})
    out: dict[str, Any] = {}
    for attr, key in sections:
        if key not in without:
            _walk(getattr(lock, attr), key, out)
    return out


def compared_sections(scope: str) -> tuple[tuple[str, str], ...]:
    """(attribute, key) of the sections `flatten` walks under `scope`, in its order."""
    return _sections(scope == "software")[0]


@functools.cache
def _sections(software: bool) -> tuple[tuple[tuple[str, str], ...], frozenset[str]]:
    """(attribute, key) of the sections compared field by field under the scope, and the
    keys of the written sections that are not (determinism, rules; software: hardware)."""
    compared, skipped = [], set()
    for sec in lock_fields().sections():
        if sec.meta.compared and not (software and sec.meta.hardware):
            compared.append((sec.attr, sec.path))
        else:
            skipped.add(sec.path)
    return tuple(compared), frozenset(skipped)


@functools.cache
def _keys(cls: type) -> tuple[tuple[str, str], ...]:
    return tuple((f.name, f.name.replace("_", "-")) for f in dataclasses.fields(cls))


def _walk(value: Any, path: str, out: dict[str, Any]) -> None:
    if value is None:
        return
    if isinstance(value, LockVersion):  # written as "MAJOR.MINOR"
        out[path] = str(value)
    elif dataclasses.is_dataclass(value):
        cls: type = type(value)
        for attr, key in _keys(cls):
            _walk(getattr(value, attr), f"{path}.{key}", out)
    elif isinstance(value, dict):
        for key, item in value.items():
            _walk(item, f"{path}.{key}", out)
    elif isinstance(value, tuple | list):
        if value and all(dataclasses.is_dataclass(v) for v in value):
            for i, item in enumerate(value):
                _walk(item, f"{path}[{i}]", out)
        else:
            out[path] = [_plain(v) for v in value]
    else:
        out[path] = value


def _plain(value: Any) -> Any:
    return [_plain(v) for v in value] if isinstance(value, tuple | list) else value
