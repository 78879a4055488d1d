"""What a command reports beside its findings: one frozen class per command, each with the
fields its renderers read (Report.details is one of these, or None).

`to_dict()` is the "details" object of `--format json` (schemas/findings.schema.json): the
fields in declaration order, tuples as lists, a field marked `OMIT_NONE` left out while it
is None. `details["lock"]` and `details.get("lock")` read that object too, for code written
when the details were a dict.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from envlock.facts import DeterminismFacts

__all__ = [
    "Details",
    "DeterminismDetails",
    "DistributedDetails",
    "DoctorDetails",
    "ExplainDetails",
    "ExplanationItem",
    "FleetDetails",
    "ReportDetails",
    "VerifyDetails",
    "lock_of",
]

# a key that only some runs have (the expected nodes, the smoke test) is absent, not null
OMIT_NONE = {"omit_none": True}


def _plain(value: object) -> object:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, _Fields):
        return value.to_dict()
    return value


class _Fields:
    """The dict view shared by every details class."""

    __slots__ = ()

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]  # subclasses are dataclasses
            value = getattr(self, f.name)
            if value is None and f.metadata.get("omit_none"):
                continue
            out[f.name] = _plain(value)
        return out

    def __getitem__(self, key: str) -> object:
        return self.to_dict()[key]

    def get(self, key: str, default: object = None) -> object:
        return self.to_dict().get(key, default)


@dataclass(frozen=True, kw_only=True, slots=True)
class DoctorDetails(_Fields):
    checks: int  # how many checks ran
    ignored: tuple[str, ...] = ()
    expect: tuple[str, ...] = ()  # --expect features (bf16, ...)
    interpreter: str | None = None  # "/usr/bin/python3 (Python 3.11.2)"
    # "section: why" or "EL-ID: needs ...": what partial facts left unchecked
    not_checked: tuple[str, ...] = ()
    # the finding to read first (checks/triage.py: a root cause before what it causes),
    # which the text shows first in its group
    read_first: str | None = field(default=None, metadata=OMIT_NONE)


@dataclass(frozen=True, kw_only=True, slots=True)
class DeterminismDetails(_Fields):
    determinism: DeterminismFacts

    def to_dict(self) -> dict[str, object]:
        return {"determinism": dataclasses.asdict(self.determinism)}


@dataclass(frozen=True, kw_only=True, slots=True)
class VerifyDetails(_Fields):
    """verify, preflight and restore's verify."""

    lock: str  # the lock's path, "<Lock>" for a Lock object
    scope: str
    probe_notes: tuple[str, ...] = ()
    ignored: tuple[str, ...] = ()
    passed: tuple[str, ...] = ()  # the fields that matched (JUnit's passing cases)
    # the command that puts the locked environment back into the interpreter verified
    # (`envlock restore LOCK --python PY`, after conda's torch family's removal where conda
    # holds torch); None where verify read no interpreter (a paste, an image, a facts file)
    restore: str | None = field(default=None, metadata=OMIT_NONE)
    venv: str | None = field(default=None, metadata=OMIT_NONE)  # restore: replaced or not


@dataclass(frozen=True, kw_only=True, slots=True)
class DistributedDetails(_Fields):
    """verify --distributed: the gathered ranks."""

    lock: str
    scope: str
    probe_notes: tuple[str, ...] = ()
    ignored: tuple[str, ...] = ()
    world_size: int
    hosts: tuple[str, ...] = ()
    smoke: str | None = field(default=None, metadata=OMIT_NONE)  # --smoke's outcome
    smoke_seconds: float | None = field(default=None, metadata=OMIT_NONE)

    @classmethod
    def gathered(
        cls,
        local: Details | None,
        *,
        world_size: int,
        hosts: Iterable[str],
        smoke: tuple[bool, float] | None,
    ) -> DistributedDetails:
        """This rank's verify details (less the passed fields: each rank has its own), the
        ranks' hosts, and the smoke test's (failed, seconds) when it ran."""
        if not isinstance(local, VerifyDetails):
            raise TypeError(f"verify's details expected, not {type(local).__name__}")
        return cls(
            lock=local.lock,
            scope=local.scope,
            probe_notes=local.probe_notes,
            ignored=local.ignored,
            world_size=world_size,
            hosts=tuple(hosts),
            smoke=None if smoke is None else _smoke_line(*smoke, world_size),
            smoke_seconds=None if smoke is None else smoke[1],
        )


def _smoke_line(failed: bool, seconds: float, world_size: int) -> str:
    return "failed" if failed else f"all-reduce over {world_size} ranks: ok"


@dataclass(frozen=True, kw_only=True, slots=True)
class FleetDetails(_Fields):
    """fleet report: the nodes that sent facts files."""

    nodes: tuple[str, ...] = ()
    expected_nodes: int | None = field(default=None, metadata=OMIT_NONE)  # --nodes
    ignored: tuple[str, ...] = ()
    lock: str | None = field(default=None, metadata=OMIT_NONE)  # --lock


@dataclass(frozen=True, kw_only=True, slots=True)
class ExplanationItem(_Fields):
    key: str
    title: str
    cause: str
    fix: str
    checks: tuple[str, ...] = ()  # the doctor checks that confirm it
    source: tuple[str, ...] = ()  # where the message was seen


@dataclass(frozen=True, kw_only=True, slots=True)
class ExplainDetails(_Fields):
    explanations: tuple[ExplanationItem, ...] = ()
    evidence: dict[str, str] = field(default_factory=dict)  # memory limits, the kernel log
    checked: bool = True  # the confirming checks ran (not --no-checks)
    wanted: tuple[str, ...] = ()  # the checks the explanations name
    gpu_note: str | None = None  # no GPU here: nothing can be confirmed


@dataclass(frozen=True, kw_only=True, slots=True)
class ReportDetails(_Fields):
    """`envlock report`: its section of the facts document it writes ("envlock_report"). The
    whole document is anonymized as data afterwards, so the parts are their JSON."""

    report_version: int = 1
    anonymized: bool
    doctor: dict[str, object]  # the doctor's Report.to_dict(), with its not_checked
    top: dict[str, object] | None = None  # the top finding's to_dict()


Details: TypeAlias = (
    DoctorDetails
    | DeterminismDetails
    | VerifyDetails
    | DistributedDetails
    | FleetDetails
    | ExplainDetails
)


def lock_of(details: Details | None) -> str | None:
    """The lock a report compared with (its path, or "<Lock>"), if any."""
    if isinstance(details, VerifyDetails | DistributedDetails | FleetDetails):
        return details.lock
    return None
