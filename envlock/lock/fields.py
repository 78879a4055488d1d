"""What is derived from the lock model's field metadata (fieldmeta.FieldMeta).

Every field of the lock's dataclasses (sections.py, model.py) carries a FieldMeta. A
section's metadata (on the `Lock` field that holds it) covers what its own fields leave
unsaid, and every key of a table (`packages.*`, `env.*`); `keys` names table keys with
metadata of their own (`env.OMP_NUM_THREADS`).

`lock_fields()` walks the model once and everything else is derived from the walk:
verify's default rules, the live-torch fields, the fields newer than a lock-version,
the sections `--scope software` drops, export's variant-dependent fields, fleet's
per-rank fields, and the property paths the JSON schema must declare (a test holds the
schema to them). A renamed field takes all of it along; a string naming a field that
no longer exists is caught by tests/lock/test_fields.py.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import types
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from envlock.lock.fieldmeta import EMPTY, FieldMeta, meta_of, written
from envlock.lock.model import Lock
from envlock.lock.version import LockVersion

# the lock reader's cache: each class's annotations are evaluated once per process
from envlock.typed import _hints

if TYPE_CHECKING:
    from envlock.facts import Facts


@dataclass(frozen=True, kw_only=True, slots=True)
class LockField:
    """One place in the lock: a section, a field in it (at any depth), or a table key.

    path: "torch", "torch.cudnn", "hardware.gpus[*].name", "packages.torch"; in
    `document` paths a table's keys are "*" ("sources.*.kind", "files.*[*].sha256").
    """

    path: str
    owner: type | None  # the dataclass whose field it is (None: a table key)
    attr: str  # that field's name
    meta: FieldMeta  # its own (no rule: its section's applies)
    section: FieldMeta  # the section's metadata
    kind: str  # "section" | "field" | "key"


@dataclass(frozen=True, kw_only=True, slots=True)
class LockFields:
    """The walk of a lock model (model.Lock, or a renamed copy in a test)."""

    entries: tuple[LockField, ...]  # sections, their fields at any depth, named table keys
    by_path: dict[str, LockField]
    document: tuple[str, ...]  # every property path a lock file may hold, in model order
    uncovered: tuple[str, ...]  # compared fields that no metadata gives a rule

    def sections(self) -> Iterator[LockField]:
        return (e for e in self.entries if e.kind == "section")

    def rules(self) -> tuple[tuple[str, FieldMeta], ...]:
        """verify's default rules, first match wins: per section, its keys and fields
        with a rule of their own, then the section's wildcard ("torch.*")."""
        out: list[tuple[str, FieldMeta]] = []
        for sec in self.sections():
            if not sec.meta.compared:
                continue
            inside = [e for e in self.entries if e.kind != "section" and _under(e.path, sec.path)]
            out += [(e.path, e.meta) for e in inside if e.meta.rule is not None]
            if sec.meta.rule is not None:
                out.append((f"{sec.path}.*", sec.meta))
        return tuple(out)

    def paths(self, flag: Callable[[FieldMeta], bool]) -> tuple[str, ...]:
        """The fields and keys whose metadata has `flag`, in model order."""
        return tuple(e.path for e in self.entries if e.kind != "section" and flag(e.meta))

    def prefixes(self, flag: Callable[[FieldMeta], bool]) -> tuple[str, ...]:
        """What str.startswith tests for `flag`: "section." for a section, else the path."""
        return tuple(
            f"{e.path}." if e.kind == "section" else e.path for e in self.entries if flag(e.meta)
        )

    def newer_than(self, version: LockVersion) -> tuple[str, ...]:
        """The prefixes of what a writer of lock-version `version` never wrote."""
        return self.prefixes(lambda m: m.since > version)

    def unavailable(self) -> tuple[tuple[str, Callable[[Facts], str | None]], ...]:
        """(section prefix, why its source was not observed) for the sections that say."""
        return tuple(
            (f"{e.path}.", e.meta.unavailable)
            for e in self.sections()
            if e.meta.unavailable is not None
        )

    def at(self, path: str) -> tuple[FieldMeta, FieldMeta, str]:
        """(own metadata, its section's, the path after the section) of a flattened path
        ("hardware.gpus[0].name", "packages.numpy"); what this model does not know (a
        newer minor's field) has empty metadata."""
        section, _, rest = path.partition(".")
        sec = self.by_path.get(section)
        own = self.by_path.get(_INDEX.sub("[*]", path) if "[" in path else path)
        return (
            own.meta if own is not None and own.kind != "section" else EMPTY,
            sec.meta if sec is not None and sec.kind == "section" else EMPTY,
            rest,
        )


_INDEX = re.compile(r"\[\d+\]")


def _under(path: str, section: str) -> bool:
    return path.startswith((f"{section}.", f"{section}["))


@functools.cache
def lock_fields(root: type = Lock) -> LockFields:
    """The walk of model.Lock (or of `root`, a model of the same shape), once."""
    walk = _Walk()
    hints = _hints(root)
    for f in dataclasses.fields(root):
        sec = meta_of(f)
        if sec is None:
            raise TypeError(f"{root.__name__}.{f.name} has no FieldMeta: say what verify does")
        if not sec.written:
            continue
        path = _key(f.name)
        walk.entries.append(
            LockField(path=path, owner=root, attr=f.name, meta=sec, section=sec, kind="section")
        )
        walk.entries += [
            LockField(path=f"{path}.{k}", owner=None, attr=k, meta=m, section=sec, kind="key")
            for k, m in sec.keys
        ]
        walk.document.append(path)
        # not compared field by field: no rule needed inside
        covered = sec.rule is not None or not sec.compared
        walk.type(hints[f.name], path, sec, covered, listed=True)
    return LockFields(
        entries=tuple(walk.entries),
        by_path={e.path: e for e in walk.entries},
        document=tuple(walk.document),
        uncovered=tuple(walk.uncovered),
    )


@functools.cache
def field_path(owner: type, attr: str, root: type = Lock) -> str:
    """The dotted path of `owner`'s field `attr` ("torch.index" for LockedTorch, "index");
    LookupError when the model has no such field (a rename reaches every caller)."""
    for e in lock_fields(root).entries:
        if e.owner is owner and e.attr == attr:
            return e.path
    raise LookupError(f"the lock model has no field {owner.__name__}.{attr}")


class _Walk:
    """What lock_fields collects while it descends the model's types."""

    def __init__(self) -> None:
        self.entries: list[LockField] = []
        self.document: list[str] = []
        self.uncovered: list[str] = []

    def type(self, hint: Any, path: str, sec: FieldMeta, covered: bool, *, listed: bool) -> None:
        """The fields under `path` of type `hint`: a table (dataclass) field by field, a
        table of data keys as "*" (its keys are data: not listed as fields), a list of
        tables as "[*]"; `covered`: a rule applies from above."""
        hint = _unoptional(hint)
        args = typing.get_args(hint)
        if typing.get_origin(hint) is dict:
            self.document.append(f"{path}.*")
            self.type(args[1], f"{path}.*", sec, covered, listed=False)
        elif typing.get_origin(hint) in (tuple, list):
            self.document.append(f"{path}[*]")
            if _is_table(args[0]):
                self.type(args[0], f"{path}[*]", sec, covered, listed=listed)
            elif not covered:
                self.uncovered.append(path)
        elif _is_table(hint):
            hints = _hints(hint)
            for f in dataclasses.fields(hint):
                if not written(f):
                    continue
                own = meta_of(f) or EMPTY
                sub = f"{path}.{_key(f.name)}"
                self.document.append(sub)
                if listed:
                    self.entries.append(
                        LockField(
                            path=sub, owner=hint, attr=f.name, meta=own, section=sec, kind="field"
                        )
                    )
                self.type(hints[f.name], sub, sec, covered or own.rule is not None, listed=listed)
        elif not covered:
            self.uncovered.append(path)


def _unoptional(hint: Any) -> Any:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(inner) == 1:
            return inner[0]
    return hint


def _is_table(hint: Any) -> bool:
    # LockVersion is written as "MAJOR.MINOR": a value
    return dataclasses.is_dataclass(hint) and hint is not LockVersion


def _key(name: str) -> str:
    return name.replace("_", "-")
