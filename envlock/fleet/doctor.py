"""The doctor on each kind of node (`fleet report`): a node whose driver is too old for
its torch is an error naming the nodes, not only a difference between them.

The doctor runs once per distinct set of what its errors read (driver, GPUs, torch,
CUDA libraries), not once per file: a fleet whose nodes differ only in a package each
is one doctor run."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from envlock.facts import Facts
    from envlock.findings import Finding


class NodeDoctor:
    """The doctor's errors per kind of node, remembered by what they read."""

    def __init__(self, known: NodeDoctor | None = None) -> None:
        self.by_kind: dict[int, list[Finding]] = {}
        self._by_facts: dict[bytes, list[Finding]] = {}
        # what another doctor found (a forked reader's parent's): not run again
        self._known = known._by_facts if known is not None else {}
        self.runs = 0  # how many times the doctor ran (once per distinct key)

    def add(self, kind: int, facts: Facts) -> None:
        """The doctor's errors for the table's `kind`, whose facts these are."""
        if kind in self.by_kind:
            return
        key = _key(facts)
        errors = self._by_facts.get(key)
        if errors is None:
            errors = self._known.get(key)
        if errors is None:
            from envlock.checks import run_checks
            from envlock.findings import Severity

            errors = [f for f in run_checks(facts) if f.severity is Severity.ERROR]
            self.runs += 1
        self._by_facts[key] = errors
        self.by_kind[kind] = errors

    def findings(self, members: dict[int, list[str]]) -> list[Finding]:
        """`doctor_findings` of this doctor's errors."""
        return doctor_findings(self.by_kind, members)


def doctor_findings(
    by_kind: dict[int, list[Finding]], members: dict[int, list[str]]
) -> list[Finding]:
    """One finding per doctor error, naming the nodes of every kind it holds for
    (`by_kind`: each kind's errors; `members`: each kind's node names)."""
    import dataclasses

    from envlock.hostlist import compress_hostlist

    nodes_of: dict[tuple[str, str], list[str]] = {}
    first: dict[tuple[str, str], Finding] = {}
    for kind, errors in by_kind.items():
        for f in errors:
            key = (f.check_id, f.message)
            first.setdefault(key, f)
            nodes_of.setdefault(key, []).extend(members.get(kind, []))
    out = []
    for key, f in first.items():
        nodes = compress_hostlist(nodes_of[key])
        count = len(set(nodes_of[key]))
        where = f"{count} node{'s' if count != 1 else ''} {nodes}"
        out.append(
            dataclasses.replace(
                f, message=f"on {where}: {f.message}", evidence={"nodes": nodes, **f.evidence}
            )
        )
    return out


def _key(facts: Facts) -> bytes:
    """What the doctor's errors read, without the per-node values among it (GPU UUIDs):
    with them every node of a fleet whose nodes differ in a package was its own run.
    The driver's and each GPU's fields as tuples (in field order, the GPUs' without their
    UUID), encoded by msgspec with the rest: no dict built per node."""
    driver_fields, gpu_fields, encode = _encoding()
    driver = facts.driver
    gpus = None if driver.gpus is None else [gpu_fields(g) for g in driver.gpus]
    return encode([driver_fields(driver), gpus, facts.torch.version, facts.torch.cuda, facts.cuda])


@functools.cache
def _encoding() -> tuple[
    Callable[[object], tuple[object, ...]],
    Callable[[object], tuple[object, ...]],
    Callable[[object], bytes],
]:
    """(the driver's fields but its GPUs, a GPU's fields but its UUID, the encoder)."""
    import dataclasses
    from operator import attrgetter

    import msgspec

    from envlock.facts import DriverFacts, GpuFacts

    def getter(cls: type, leave_out: str) -> Callable[[object], tuple[object, ...]]:
        names = [f.name for f in dataclasses.fields(cls) if f.name != leave_out]
        return attrgetter(*names)  # two fields or more: a tuple

    return getter(DriverFacts, "gpus"), getter(GpuFacts, "uuid"), msgspec.json.Encoder().encode
