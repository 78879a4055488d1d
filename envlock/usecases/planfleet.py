"""`envlock doctor --plan FILE --facts-dir DIR` (issue 24 item 3): a plan held against every
kind of node of a fleet, the per-node facts files `envlock fleet report DIR` reads.

Nodes whose driver and GPUs are the same (GPU UUIDs and the other per-node values aside)
are one kind of node: the plan is judged once per kind (usecases/plan.py's judge_plans,
fixes re-checked on that kind), never once per file. Each finding then names the nodes it
holds on as a Slurm hostlist, and the report's target says where the plan runs and where
it fails: `runs on gpu-node-[001-062], fails on gpu-node-[063-064]`."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from envlock.errors import FactsError

if TYPE_CHECKING:
    from pathlib import Path

    from envlock.facts import Facts
    from envlock.findings import Finding, Report
    from envlock.report.progress import Progress

MAX_KINDS = 256  # kinds of node judged one by one; a fleet of more is refused (exit 3)


class _TooManyKinds(FactsError):
    """More kinds of node than MAX_KINDS: the whole directory, not one node's file."""


@dataclass
class NodeKind:
    """Nodes with the same driver and GPUs, and one node's facts for all of them."""

    facts: Facts
    nodes: list[str] = field(default_factory=list)


@dataclass
class FleetHosts:
    """A facts directory read as kinds of node, and the files it could not read."""

    kinds: list[NodeKind]
    unreadable: list[Finding]


def fleet_hosts(directory: str, progress: Progress | None = None) -> FleetHosts:
    """Every facts file of `directory` (*.json, by name), grouped by what a plan's checks
    read of a host. A node is named by its host name, else its file's stem."""
    from envlock.errors import EnvlockError
    from envlock.fleet.files import _facts_files, _unreadable

    grouping = _Grouping(directory)
    unreadable: list[Finding] = []
    paths = _facts_files(directory)
    for done, path in enumerate(paths, 1):
        if progress is not None:
            progress.count(f"reading the facts files in {directory}", done, len(paths))
        try:
            grouping.add(path)
        except EnvlockError as exc:
            if isinstance(exc, _TooManyKinds):
                raise
            unreadable.append(_unreadable(path, exc))
    kinds = [k for k in grouping.kinds.values() if k.nodes]
    return FleetHosts(kinds=kinds, unreadable=unreadable)


class _Grouping:
    """Node files -> kinds of node: a file equal to an earlier one but for its per-node
    values (the fleet's node view) joins that one's kind without being decoded."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.kinds: dict[bytes, NodeKind] = {}
        self.by_view: dict[bytes, bytes] = {}  # a node view's kind -> its host key

    def add(self, path: Path) -> None:
        from envlock.fleet.files import _decode, _read, node_view

        raw = _read(path)
        view = node_view(raw)
        key = self.by_view.get(view.kind) if view is not None else None
        host = view.host if view is not None else None
        if key is None:
            facts = _decode(path, raw)
            key = host_key(facts)
            if key not in self.kinds and len(self.kinds) >= MAX_KINDS:
                raise _TooManyKinds(
                    f"{self.directory}: more than {MAX_KINDS} kinds of node to judge"
                )
            self.kinds.setdefault(key, NodeKind(facts=facts))
            if view is not None:
                self.by_view[view.kind] = key
            host = host or facts.system.hostname
        self.kinds[key].nodes.append(host or path.stem)


def host_key(facts: Facts) -> bytes:
    """What a plan's checks read of a host: its driver and GPUs without their per-node
    values (UUIDs, PCI addresses), and its OS."""
    import msgspec

    driver = msgspec.to_builtins(facts.driver)
    for gpu in driver.get("gpus") or ():
        gpu.pop("uuid", None)
        gpu.pop("pci_bus_id", None)
    os_facts = facts.system.os
    return msgspec.json.encode([driver, msgspec.to_builtins(os_facts)])


def doctor_plan_fleet(
    paths: Iterable[str],
    *,
    facts_dir: str,
    build_args: Mapping[str, str],
    target: str | None,
    ignore: Iterable[str],
    strict: bool,
    progress: Progress | None = None,
) -> Report:
    """The plans judged on each kind of node of `facts_dir`; a finding per finding and
    location, naming the nodes it holds on."""
    from envlock.catalog import DOCTOR, validate_ignore
    from envlock.findings import DoctorDetails, Report, Severity
    from envlock.hostlist import compress_hostlist
    from envlock.plan.judge import PLAN_CHECKS
    from envlock.usecases.plan import judge_plans

    skip = validate_ignore(ignore, DOCTOR)
    paths = list(paths)
    hosts = fleet_hosts(facts_dir, progress)
    per_kind: list[tuple[NodeKind, tuple[Finding, ...]]] = []
    not_checked: list[str] = []
    for kind in hosts.kinds:
        judged = judge_plans(
            paths, host=kind.facts, build_args=build_args, target=target, ignore=skip
        )
        per_kind.append((kind, judged.findings))
        not_checked.extend(judged.not_checked)
    failing = [any(f.severity is Severity.ERROR for f in found) for _, found in per_kind]
    fails = [n for (k, _), bad in zip(per_kind, failing, strict=True) if bad for n in k.nodes]
    runs = [n for (k, _), bad in zip(per_kind, failing, strict=True) if not bad for n in k.nodes]
    verdict = ", ".join(
        f"{word} on {compress_hostlist(nodes)}"
        for word, nodes in (("runs", runs), ("fails", fails))
        if nodes
    )
    count = sum(len(k.nodes) for k in hosts.kinds)
    return Report(
        command="doctor",
        target=(
            f"plan:{', '.join(paths)} on {count} node{'s' if count != 1 else ''} of "
            f"{facts_dir} ({len(hosts.kinds)} kind{'s' if len(hosts.kinds) != 1 else ''}): "
            f"{verdict}"
        ),
        findings=[*hosts.unreadable, *_by_nodes(per_kind)],
        strict=strict,
        details=DoctorDetails(
            checks=len(set(PLAN_CHECKS) - skip),
            ignored=tuple(sorted(skip)),
            not_checked=tuple(dict.fromkeys(not_checked)),
        ),
    )


def _by_nodes(per_kind: list[tuple[NodeKind, tuple[Finding, ...]]]) -> list[Finding]:
    """One finding per (check, message, fix), naming the nodes of every kind it holds on:
    `on 2 nodes gpu-node-[063-064]: ...`, the hostlist also in its evidence."""
    from envlock.hostlist import compress_hostlist

    first: dict[tuple[str, str, str], Finding] = {}
    nodes_of: dict[tuple[str, str, str], list[str]] = {}
    for kind, findings in per_kind:
        for f in findings:
            key = (f.check_id, f.message, f.fix or "")
            first.setdefault(key, f)
            nodes_of.setdefault(key, []).extend(kind.nodes)
    out = []
    for key, f in first.items():
        nodes = compress_hostlist(nodes_of[key])
        n = len(set(nodes_of[key]))
        out.append(
            dataclasses.replace(
                f,
                message=f"on {n} node{'s' if n != 1 else ''} {nodes}: {f.message}",
                evidence={"nodes": nodes, **f.evidence},
            )
        )
    return out
