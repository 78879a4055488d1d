"""What the lock model says about a field beyond its type (its `dataclasses.field`
metadata): how verify compares it and why, whether only torch's live child observes it,
the lock-version that introduced it, whether it describes the machine. sections.py and
model.py attach it to every field; fields.py walks the model and derives the tables
verify, export, fleet and the schema test read.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from envlock.lock.version import LockVersion
from envlock.severity import Severity

if TYPE_CHECKING:
    from envlock.facts import Facts

META = "envlock"  # the key of a FieldMeta in a dataclass field's metadata
FIRST = LockVersion(1, 0)
V1_1 = LockVersion(1, 1)


@dataclass(frozen=True, kw_only=True, slots=True)
class FieldMeta:
    """What the model knows about a lock field, a section or a table key."""

    rule: str | None = None  # how verify compares it (model.RULE_KINDS); None: its section's
    severity: Severity = Severity.ERROR  # a drifted or missing value
    extra: Severity = Severity.WARNING  # observed now but not in the lock
    why: str = ""  # why it matters: printed with verify's finding
    fix: str = ""  # verify's fix for a drifted or missing value, with {key} and {locked}
    installs_torch: bool = False  # the fix is the pip line that installs the locked torch
    live: bool = False  # observed only by torch's live child: absent when it did not run
    since: LockVersion = FIRST  # the lock-version that introduced it
    hardware: bool = False  # describes the machine: `--scope software` leaves it out
    variant: bool = False  # another CUDA variant of the same torch release changes it
    # not the environment's: fleet does not compare it across the ranks of a job (the
    # header, when the lock was made, what torchrun sets per rank)
    per_rank: bool = False
    compared: bool = True  # compared field by field (determinism has its own comparison)
    written: bool = True  # a key of the lock file (not: what the reader kept aside)
    # A section: why its source could not be observed in these facts (None: it was).
    unavailable: Callable[[Facts], str | None] | None = None
    keys: tuple[tuple[str, FieldMeta], ...] = ()  # a table's keys with metadata of their own


def about(meta: FieldMeta) -> dict[str, FieldMeta]:
    """A field's metadata: `dataclasses.field(default=None, metadata=about(FieldMeta(...)))`."""
    return {META: meta}


EMPTY = FieldMeta()  # what the model says of a field it does not know


def meta_of(f: dataclasses.Field[Any]) -> FieldMeta | None:
    value = f.metadata.get(META)
    return value if isinstance(value, FieldMeta) else None


_RUN_ONLY = frozenset({"seconds", "differing_ops"})


def written(f: dataclasses.Field[Any]) -> bool:
    """Whether a dataclass field is a key of the lock file: not what the reader kept
    aside (Lock.unknown, Lock.notes), nor the determinism facts' timings, nor the outputs
    that differed between two runs (a lock holds only classes whose runs agree)."""
    meta = meta_of(f)
    return (meta is None or meta.written) and f.name not in _RUN_ONLY
