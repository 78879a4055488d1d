"""The fleet's comparison, pure: one node's or rank's facts as a summary, and the findings
over all of them (drift from the lock per rank, fields where ranks disagree, nodes that
sent nothing). The rendezvous (`rendezvous.py`) and the facts files (`files.py`) only
bring the summaries here."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from envlock.errors import EnvlockError
from envlock.facts import Facts
from envlock.findings import Finding, Severity
from envlock.hostlist import Hostlist, compress_hostlist
from envlock.hostlist import ranges as _ranges
from envlock.lock import build_lock, flatten
from envlock.lock.fields import lock_fields

# Fields that legitimately differ per rank/node and are never compared across ranks:
# the lock model says which (FieldMeta.per_rank).
_PER_RANK = lock_fields().prefixes(lambda m: m.per_rank)
# Up to this many nodes a message names each node with its ranks; past it, a hostlist.
_NAME_EACH_UP_TO = 8


class FleetError(EnvlockError):
    """The fleet could not be assembled (rendezvous timeout, missing rank, no facts files)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class RankSummary:
    rank: int
    host: str
    fields: dict[str, Any]
    findings: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "host": self.host,
            "fields": self.fields,
            "findings": self.findings,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RankSummary:
        return cls(
            rank=int(d["rank"]),
            host=str(d["host"]),
            fields=dict(d["fields"]),
            findings=list(d.get("findings", [])),
        )


def summarize(
    rank: int, host: str, facts: Facts, findings: list[Finding], scope: str
) -> RankSummary:
    # every value as observed: one no lock may hold (a version with a line break) is still
    # compared across nodes, not dropped on each of them alike
    lock = build_lock(facts, scope="full", created="-", lockable=False)
    fields = {k: v for k, v in flatten(lock, scope=scope).items() if not k.startswith(_PER_RANK)}
    if facts.determinism is not None:
        for name, cls in facts.determinism.classes.items():
            fields[f"determinism.{name}"] = cls.digest
    fields.update(network_fields(facts))
    return RankSummary(
        rank=rank,
        host=host,
        fields=fields,
        findings=[f.to_dict() for f in findings if f.severity >= Severity.WARNING],
    )


def network_fields(facts: Facts) -> dict[str, Any]:
    """What the nodes of one job must agree on about their network (not in the lock: the
    lock describes a software environment, a fleet also its wiring): physical interface
    names (NCCL_SOCKET_IFNAME/GLOO_SOCKET_IFNAME select among them), RDMA ports with
    state and link layer, the GPUDirect RDMA module. Nothing when not probed."""
    net = facts.network
    if net is None or net.unavailable is not None:
        return {}
    return {
        "network.interfaces": sorted(i.name for i in net.interfaces if i.physical),
        "network.rdma-ports": [
            f"{d.name}:{p.port} {p.state or '?'} {p.link_layer or '?'}"
            for d in net.ib_devices
            for p in d.ports
        ],
        "network.gpudirect-module": net.gpudirect_module,
    }


def _where(ranks: list[RankSummary]) -> str:
    """Each node with its ranks (`node-a: ranks 0-3`) for a few nodes; a hostlist past that."""
    by_host: dict[str, list[int]] = defaultdict(list)
    for r in ranks:
        by_host[r.host].append(r.rank)
    if len(by_host) > _NAME_EACH_UP_TO:
        return _nodes(ranks)
    return "; ".join(
        f"{h}: rank{'s' * (len(v) > 1)} {_ranges(sorted(v))}" for h, v in sorted(by_host.items())
    )


def _nodes(ranks: list[RankSummary]) -> str:
    """'2 nodes gpu-node-[007,041]': how many nodes and which, compressed like a Slurm hostlist."""
    hosts = {r.host for r in ranks}
    return f"{len(hosts)} node{'s' * (len(hosts) != 1)} {compress_hostlist(hosts)}"


def _identical(summaries: list[RankSummary]) -> list[list[RankSummary]]:
    """Summaries grouped by identical fields and findings (one group per kind of node): a
    10,000-node fleet of a few kinds is compared as a few groups. Summaries that share
    their dicts (fleet report's files with the same content) are serialised once."""
    keys: dict[tuple[int, int], str] = {}
    groups: dict[str, list[RankSummary]] = {}
    for s in summaries:
        ident = (id(s.fields), id(s.findings))
        key = keys.get(ident)
        if key is None:
            key = keys[ident] = json.dumps(
                [s.fields, s.findings], sort_keys=True, default=repr, separators=(",", ":")
            )
        groups.setdefault(key, []).append(s)
    return list(groups.values())


def compare_ranks(
    summaries: list[RankSummary], reference: dict[str, Any] | None = None
) -> list[Finding]:
    """Findings over all ranks: lock drift per rank, and fields where ranks disagree.

    `reference`: the lock's flattened fields, shown as the locked value of a field the
    nodes disagree on."""
    kinds = _identical(summaries)
    return [*_drift(kinds), *_divergent(kinds, reference)]


def _drift(kinds: list[list[RankSummary]]) -> list[Finding]:
    """EL-FLEET-RANK-DRIFT: each rank's own drift from the lock, grouped by (field,
    observed value, severity) across ranks."""
    drift: dict[tuple[str, str, str], list[RankSummary]] = defaultdict(list)
    examples: dict[tuple[str, str, str], dict[str, Any]] = {}
    for kind in kinds:
        for f in kind[0].findings:
            key = (str(f.get("field") or f["id"]), repr(f.get("observed")), f["severity"])
            drift[key].extend(kind)
            examples.setdefault(key, f)
    findings = []
    for key, ranks in sorted(drift.items()):
        name, _observed, severity = key
        example = examples[key]
        ranks.sort(key=lambda r: r.rank)
        findings.append(
            Finding(
                check_id="EL-FLEET-RANK-DRIFT",
                severity=Severity.parse(severity),
                field=name,
                locked=example.get("locked"),
                observed=example.get("observed"),
                why=example.get("why"),
                message=f"{example['message']} — on {_where(ranks)}",
                evidence={
                    "ranks": [r.rank for r in ranks],
                    "hosts": sorted({r.host for r in ranks}),
                    "where": f"{_show(example.get('observed'))} on {_nodes(ranks)}",
                },
                fix=example.get("fix"),
            )
        )
    return findings


def _divergent(kinds: list[list[RankSummary]], reference: dict[str, Any] | None) -> list[Finding]:
    """EL-FLEET-DIVERGENT: one finding per field whose value is not the same on every rank."""
    findings = []
    for name in sorted({k for kind in kinds for k in kind[0].fields}):
        groups: dict[str, list[RankSummary]] = defaultdict(list)
        values: dict[str, Any] = {}
        for kind in kinds:
            v = kind[0].fields.get(name)
            groups[repr(v)].extend(kind)
            values[repr(v)] = v
        if len(groups) > 1:
            locked = None if reference is None else reference.get(name)
            findings.append(_divergent_finding(name, groups, values, locked))
    return findings


def _divergent_finding(
    name: str, groups: dict[str, list[RankSummary]], values: dict[str, Any], locked: Any
) -> Finding:
    """The finding for one field: the majority value first, then the smaller groups (the
    outliers), each named."""
    for g in groups.values():
        g.sort(key=lambda r: r.rank)
    by_size = sorted(groups, key=lambda k: (-len(groups[k]), k))
    majority, odd = by_size[0], by_size[1:]
    where = "; ".join(f"{_show(values[k])} on {_nodes(groups[k])}" for k in by_size)
    total = sum(len(g) for g in groups.values())
    return Finding(
        check_id="EL-FLEET-DIVERGENT",
        severity=Severity.ERROR,
        field=name,
        locked=locked,
        observed=values[majority],
        why="ranks that disagree here can hang or corrupt the first collective",
        message=f"{name} differs across ranks: {_said(values[majority])} on "
        f"{len(groups[majority])} of {total} rank(s), but "
        + "; ".join(f"{_said(values[k])} on {_where(groups[k])}" for k in odd),
        evidence={
            "values": {k: [r.rank for r in groups[k]] for k in by_size},
            "hosts": {k: sorted({r.host for r in groups[k]}) for k in by_size},
            "where": where,
        },
        fix="make every node's environment identical (same image/venv, driver and variables)",
    )


def missing_nodes(expected: Hostlist, seen: Iterable[str]) -> Finding | None:
    """EL-FLEET-NODE-MISSING: nodes named by --nodes that sent no facts. Computed on the
    hostlist's ranges: evidence names the first 10,000 (`count` says how many in all)."""
    missing = expected.missing(seen)
    if not missing.count:
        return None
    return Finding(
        check_id="EL-FLEET-NODE-MISSING",
        severity=Severity.ERROR,
        message=f"{missing.count} of {len(expected)} expected node(s) sent no facts: "
        f"{missing.where}",
        evidence={"missing": missing.first, "count": missing.count, "where": missing.where},
        fix="run `envlock probe --json > DIR/$(hostname).json` on those nodes "
        "(or check why the job did not reach them)",
    )


def _show(value: Any) -> str:
    return "(none)" if value is None else str(value)


def _said(value: Any) -> str:
    """A value in a sentence: quoted, and an unset one as "(none)", as in `where`."""
    return "(none)" if value is None else repr(value)
