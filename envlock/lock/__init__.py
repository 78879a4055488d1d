"""The lock file, owned here: its typed model, the version gate, reading and writing,
building it from Facts and flattening it into the dotted fields verify compares.

    Lock (model.py) <- build_lock(Facts) (build.py)
    read_lock / loads_lock / dumps_lock / write_lock (io.py), gated by LockVersion (version.py)
    flatten(Lock) -> {"torch.cuda": "13.0", ...} (flatten.py)

Names load on first use (PEP 562), so `from envlock.lock.model import DEFAULT_LOCK_NAME`
does not import the builder, the reader and the writer.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from envlock.lock.build import build_lock, is_locked_env
    from envlock.lock.flatten import flatten, flatten_table
    from envlock.lock.io import dumps_lock, loads_lock, read_lock, write_lock
    from envlock.lock.model import (
        DEFAULT_LOCK_NAME,
        HARDWARE_SECTIONS,
        RULE_KINDS,
        SCOPES,
        TOOL_PACKAGES,
        Lock,
    )
    from envlock.lock.version import LockVersion

_WHERE = {
    "build_lock": "build",
    "is_locked_env": "build",
    "flatten": "flatten",
    "flatten_table": "flatten",
    "dumps_lock": "io",
    "loads_lock": "io",
    "read_lock": "io",
    "write_lock": "io",
    "DEFAULT_LOCK_NAME": "model",
    "HARDWARE_SECTIONS": "model",
    "RULE_KINDS": "model",
    "SCOPES": "model",
    "TOOL_PACKAGES": "model",
    "Lock": "model",
    "LockVersion": "version",
}

__all__ = [
    "DEFAULT_LOCK_NAME",
    "HARDWARE_SECTIONS",
    "RULE_KINDS",
    "SCOPES",
    "TOOL_PACKAGES",
    "Lock",
    "LockVersion",
    "build_lock",
    "dumps_lock",
    "flatten",
    "flatten_table",
    "is_locked_env",
    "loads_lock",
    "read_lock",
    "write_lock",
]


def __getattr__(name: str) -> object:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'envlock.lock' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"envlock.lock.{module}"), name)
    globals()[name] = value
    return value
