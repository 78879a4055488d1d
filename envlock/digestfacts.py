"""The determinism suite's digests as facts (`Facts.determinism`) and as the lock holds
them (`Lock.determinism`): one set of dataclasses, here, so that the lock's model loads
without the Facts model (a repeat restore, its verify's Report cached, reads no facts
into it). Every name is importable from `envlock.facts` too."""

from __future__ import annotations

from dataclasses import dataclass, field

from envlock import typed


@dataclass(frozen=True, kw_only=True, slots=True)
class DigestSummary:
    """Float64 statistics of a class's output tensors, for tolerance comparison."""

    sum: float
    mean: float
    max_abs: float
    elements: int = 0
    samples: list[float] = field(default_factory=list)  # values at evenly spaced positions


@dataclass(frozen=True, kw_only=True, slots=True)
class DigestClassFacts:
    digest: str  # "sha256:<hex>" of the first run's tensors (names, dtypes, shapes, bytes)
    summary: DigestSummary
    run_to_run_identical: bool = True
    repeat_digest: str | None = None  # the second run's digest, only when it differs
    differing_ops: list[str] = field(default_factory=list)  # ops whose outputs differed, then
    tensors: int = 0
    skipped: dict[str, str] = field(
        default_factory=dict
    )  # op -> why this torch/device cannot run it
    seconds: float | None = None  # first run; never written to the lock


@dataclass(frozen=True, kw_only=True, slots=True)
class DeterminismFacts:
    seed: int
    suite_version: int
    device: str  # cpu or cuda
    context: dict[str, str] = field(default_factory=dict, metadata=typed.NAME_KEYS)
    settings: dict[str, str] = field(default_factory=dict, metadata=typed.NAME_KEYS)
    classes: dict[str, DigestClassFacts] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)  # class -> why it could not run
    seconds: float | None = None  # both runs of the workload, without the torch import
