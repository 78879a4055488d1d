"""The lock file, owned here: its typed model, the version gate, reading and writing,
building it from Facts and flattening it into the dotted fields verify compares.

    Lock (model.py) <- build_lock(Facts) (build.py)
    read_lock / loads_lock / dumps_lock / write_lock (io.py), gated by LockVersion (version.py)
    flatten(Lock) -> {"torch.cuda": "13.0", ...} (flatten.py)
"""

from __future__ import annotations

from envlock.lock.build import build_lock, is_locked_env
from envlock.lock.flatten import flatten, flatten_table
from envlock.lock.io import dumps_lock, loads_lock, read_lock, write_lock
from envlock.lock.model import DEFAULT_LOCK_NAME, HARDWARE_SECTIONS, RULE_KINDS, SCOPES, Lock
from envlock.lock.version import LockVersion

__all__ = [
    "DEFAULT_LOCK_NAME",
    "HARDWARE_SECTIONS",
    "RULE_KINDS",
    "SCOPES",
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
