"""Dotted fields of a lock: what verify compares and fleet groups by.

`torch.cuda`, `hardware.gpus[0].name`, `packages.numpy`: tables become dots,
arrays of tables become indices, arrays of values stay values.
"""

from __future__ import annotations

from typing import Any

from envlock.lock.model import HARDWARE_SECTIONS, Lock

# Never compared field by field: determinism has its own comparison, rules are verify's input.
NOT_FIELDS = ("determinism", "rules")


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


def flatten(lock: Lock, *, scope: str = "full") -> dict[str, Any]:
    """The lock's comparable fields under `scope` (software: no driver or hardware)."""
    skip = NOT_FIELDS + (HARDWARE_SECTIONS if scope == "software" else ())
    table = lock.to_dict()
    return flatten_table({k: v for k, v in table.items() if k not in skip})
