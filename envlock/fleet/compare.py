"""The fleet's comparison, pure: one node's or rank's facts as a summary, and the findings
over all of them (drift from the lock per rank, fields where ranks disagree, nodes that
sent nothing). The rendezvous (`rendezvous.py`) and the facts files (`files.py`) only
bring the summaries here.

Cost: O(nodes + distinct values), never nodes x fields. Identical summaries are one kind
of node (`FleetTable`); each kind after the first holds only its *delta* from the first
kind, so 10,000 nodes that each add one package hold 10,000 one-field deltas, not a
10,000 x 10,000 table. A field is compared only where some delta names it, and the nodes
that keep the first kind's value are listed only when a finding shows them. A long tail
(more than `LONG_TAIL` fields of one section that most nodes lack: a package, a variable,
an extension on one node each) is reported per field without the list of every node
lacking it (`evidence["absent"]` counts them), which renderers fold into one line.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TypeAlias, TypedDict

from envlock.errors import EnvlockError
from envlock.facts import Facts
from envlock.findings import Finding, Severity
from envlock.hostlist import Hostlist, compress_hostlist
from envlock.hostlist import ranges as _ranges
from envlock.lock import Lock, build_lock, flatten
from envlock.lock.fields import lock_fields

# Fields that legitimately differ per rank/node and are never compared across ranks:
# the lock model says which (FieldMeta.per_rank).
_PER_RANK = lock_fields().prefixes(lambda m: m.per_rank)
# Up to this many nodes a message names each node with its ranks; past it, a hostlist.
_NAME_EACH_UP_TO = 8
# A section with more fields than this that most nodes lack is a long tail: its findings
# count the nodes lacking each field instead of listing them (renderers fold them).
LONG_TAIL = 10

# A summary's field values: what a flattened lock holds (str, int, float, bool, lists of
# them) and the network's lists; compared by repr, shown by str.
Value: TypeAlias = object
Member: TypeAlias = tuple[int, str]  # (rank, host)
_ABSENT = object()  # a field the first kind lacks
_KEY = json.JSONEncoder(sort_keys=True, default=repr, separators=(",", ":"))  # a kind's key


class FindingDoc(TypedDict, total=False):
    """A rank's own finding as it travels (Finding.to_dict(), JSON between ranks)."""

    id: str
    severity: str
    message: str
    fix: str
    evidence: dict[str, object]
    field: str
    locked: object
    observed: object
    why: str


class FleetError(EnvlockError):
    """The fleet could not be assembled (rendezvous timeout, missing rank, no facts files)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class RankSummary:
    rank: int
    host: str
    fields: dict[str, Value]
    findings: list[FindingDoc] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {
            "rank": self.rank,
            "host": self.host,
            "fields": self.fields,
            "findings": self.findings,
        }

    @classmethod
    def from_dict(cls, d: object) -> RankSummary:
        """A summary another rank sent (JSON); a FleetError line when it is not one."""
        try:
            if not isinstance(d, dict):
                raise TypeError("not a table")
            fields, findings = d["fields"], d.get("findings", [])
            if not isinstance(fields, dict) or not isinstance(findings, list):
                raise TypeError("its fields are not a table or its findings not a list")
            return cls(
                rank=int(d["rank"]),
                host=str(d["host"]),
                fields=dict(fields),
                findings=[_finding_doc(f) for f in findings],
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise FleetError(f"a rank sent an unreadable summary: {exc!r}") from None


def _finding_doc(d: object) -> FindingDoc:
    """A finding from another rank, its keys typed (as Finding.to_dict() writes them)."""
    if not isinstance(d, dict):
        raise TypeError("a finding is a table")
    doc = FindingDoc(id=str(d["id"]), severity=str(d["severity"]), message=str(d["message"]))
    for key in ("fix", "field", "why"):
        if d.get(key) is not None:
            doc[key] = str(d[key])
    if isinstance(d.get("evidence"), dict):
        doc["evidence"] = dict(d["evidence"])
    if "locked" in d or "observed" in d:
        doc["locked"], doc["observed"] = d.get("locked"), d.get("observed")
    return doc


class SectionFlattener:
    """`flatten` for a stream of locks that share most sections (the nodes of a fleet): a
    section equal to the previous lock's is not walked again, its fields are reused. Nodes
    that differ in one package each flatten only their packages. Fields a rank's summary
    never holds (`_PER_RANK`) are left out here."""

    def __init__(self, scope: str) -> None:
        from envlock.lock.flatten import compared_sections

        self.scope = scope
        self.sections = compared_sections(scope)
        self._keys = frozenset(key for _, key in self.sections)
        self._last: dict[str, tuple[object, dict[str, Value]]] = {}

    def __call__(self, lock: Lock) -> dict[str, Value]:
        if lock.unknown:  # keys the model does not know: flatten places them
            return flatten(lock, scope=self.scope)
        out: dict[str, Value] = {}
        for attr, key in self.sections:
            value = getattr(lock, attr)
            last = self._last.get(attr)
            if last is None or not (last[0] is value or last[0] == value):
                part = _text_table(value, key)
                if part is None:
                    part = flatten(lock, scope=self.scope, without=self._keys - {key})
                last = (value, {k: v for k, v in part.items() if not k.startswith(_PER_RANK)})
                self._last[attr] = last
            out.update(last[1])
        return out


def _text_table(value: object, key: str) -> dict[str, Value] | None:
    """A section that is a table of text (packages, env) flattened as `flatten` would
    (`key.name`: text), without its walk per value; None for any other section."""
    if not isinstance(value, dict) or not all(type(v) is str for v in value.values()):
        return None
    return {f"{key}.{name}": text for name, text in value.items()}


def summarize(
    rank: int,
    host: str,
    facts: Facts,
    findings: list[Finding],
    scope: str,
    *,
    flattener: SectionFlattener | None = None,
) -> RankSummary:
    """One rank's or node's summary; `flattener` (one per stream of nodes) reuses the
    fields of the sections equal to the previous node's."""
    # every value as observed: one no lock may hold (a version with a line break) is still
    # compared across nodes, not dropped on each of them alike
    lock = build_lock(facts, scope="full", created="-", lockable=False)
    if flattener is not None:
        fields = flattener(lock)
    else:
        flat = flatten(lock, scope=scope)
        fields = {k: v for k, v in flat.items() if not k.startswith(_PER_RANK)}
    if facts.determinism is not None:
        for name, cls in facts.determinism.classes.items():
            fields[f"determinism.{name}"] = cls.digest
    fields.update(network_fields(facts))
    return RankSummary(
        rank=rank,
        host=host,
        fields=fields,
        findings=rank_findings(findings),
    )


def rank_findings(findings: Iterable[Finding]) -> list[FindingDoc]:
    """A rank's own findings that the fleet compares (warnings and errors), as they travel."""
    return [_finding_doc(f.to_dict()) for f in findings if f.severity >= Severity.WARNING]


def network_fields(facts: Facts) -> dict[str, Value]:
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


@dataclass(slots=True)
class _Kind:
    """Ranks with identical summaries: their fields as a delta from the first kind's (a
    field they lack, the first kind has: None), their own findings, and who they are."""

    delta: dict[str, Value]
    findings: list[FindingDoc]
    members: list[Member] = field(default_factory=list)


class FleetTable:
    """Every rank's summary, held as kinds of node (identical summaries share one), each a
    delta from the first kind: memory grows with nodes and distinct values, not with
    nodes x fields. `add` takes one rank's fields and findings; `join` adds a rank to a
    kind already added (files of one node-view kind)."""

    def __init__(self) -> None:
        self.base: dict[str, Value] = {}  # the first kind's fields (no None: a None is absent)
        self._base_repr: dict[str, str] = {}
        self.kinds: list[_Kind] = []
        self._by_key: dict[str, int] = {}
        self.ranks = 0

    def add(
        self, rank: int, host: str, fields: Mapping[str, Value], findings: list[FindingDoc]
    ) -> int:
        """Add one rank; its kind's index (a new kind when no earlier summary is the same)."""
        if not self.kinds:
            self.base = {k: v for k, v in fields.items() if v is not None}
            self._base_repr = {k: repr(v) for k, v in self.base.items()}
        return self.add_delta(rank, host, self._delta(fields), findings)

    def add_delta(
        self, rank: int, host: str, delta: dict[str, Value], findings: list[FindingDoc]
    ) -> int:
        """`add` of a rank whose delta from the first kind is known (a forked reader's
        table's, rebased: `split.py`)."""
        key = _KEY.encode([delta, findings])
        index = self._by_key.get(key)
        if index is None:
            index = self._by_key[key] = len(self.kinds)
            self.kinds.append(_Kind(delta, findings))
        self.join(index, rank, host)
        return index

    def join(self, index: int, rank: int, host: str) -> None:
        self.kinds[index].members.append((rank, host))
        self.ranks += 1

    def _delta(self, fields: Mapping[str, Value]) -> dict[str, Value]:
        """The fields that differ from the first kind's (compared by repr, as findings
        group values); a field of the first kind this one lacks is None."""
        delta: dict[str, Value] = {}
        shared = 0
        base = self.base
        for name, value in fields.items():
            if value is None:  # flatten leaves None out: absent and None are one
                continue
            first = base.get(name, _ABSENT)
            shared += first is not _ABSENT
            if first is value:  # a section reused from the first kind's flatten
                continue
            if type(value) is str and type(first) is str:  # equal text: equal repr
                if first != value:
                    delta[name] = value
            elif self._base_repr.get(name) != repr(value):
                delta[name] = value
        if shared < len(self.base):
            delta.update((k, None) for k in self.base if fields.get(k) is None)
        return delta


def compare_ranks(
    summaries: Iterable[RankSummary], reference: Mapping[str, Value] | None = None
) -> list[Finding]:
    """Findings over all ranks: lock drift per rank, and fields where ranks disagree.

    `reference`: the lock's flattened fields, shown as the locked value of a field the
    nodes disagree on."""
    table = FleetTable()
    kinds: dict[tuple[int, int], int] = {}  # summaries sharing their dicts: one delta
    for s in summaries:
        ident = (id(s.fields), id(s.findings))
        if ident in kinds:
            table.join(kinds[ident], s.rank, s.host)
        else:
            kinds[ident] = table.add(s.rank, s.host, s.fields, s.findings)
    return compare_table(table, reference)


def compare_table(table: FleetTable, reference: Mapping[str, Value] | None = None) -> list[Finding]:
    """`compare_ranks` over a table filled rank by rank (fleet report's files)."""
    return [*_drift(table.kinds), *_divergent(table, reference)]


def _where(ranks: list[Member]) -> str:
    """Each node with its ranks (`node-a: ranks 0-3`) for a few nodes; a hostlist past that."""
    if len(ranks) == 1:  # one value on each of 10,000 nodes: no grouping per value
        return f"{ranks[0][1]}: rank {ranks[0][0]}"
    by_host: dict[str, list[int]] = defaultdict(list)
    for rank, host in ranks:
        by_host[host].append(rank)
    if len(by_host) > _NAME_EACH_UP_TO:
        return _nodes(ranks)
    return "; ".join(
        f"{h}: rank{'s' * (len(v) > 1)} {_ranges(sorted(v))}" for h, v in sorted(by_host.items())
    )


def _nodes(ranks: list[Member]) -> str:
    """'2 nodes gpu-node-[007,041]': how many nodes and which, compressed like a Slurm hostlist."""
    if len(ranks) == 1:  # one name compresses to itself
        return f"1 node {ranks[0][1]}"
    hosts = {host for _, host in ranks}
    return f"{len(hosts)} node{'s' * (len(hosts) != 1)} {compress_hostlist(hosts)}"


def _drift(kinds: list[_Kind]) -> list[Finding]:
    """EL-FLEET-RANK-DRIFT: each rank's own drift from the lock, grouped by (field,
    observed value, severity) across ranks."""
    drift: dict[tuple[str, str, str], list[Member]] = defaultdict(list)
    examples: dict[tuple[str, str, str], FindingDoc] = {}
    for kind in kinds:
        for f in kind.findings:
            key = (str(f.get("field") or f["id"]), repr(f.get("observed")), f["severity"])
            drift[key].extend(kind.members)
            examples.setdefault(key, f)
    findings = []
    for key, ranks in sorted(drift.items()):
        name, _observed, severity = key
        example = examples[key]
        ranks.sort()
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
                    "ranks": [rank for rank, _ in ranks],
                    "hosts": sorted({host for _, host in ranks}),
                    "where": f"{_show(example.get('observed'))} on {_nodes(ranks)}",
                },
                fix=example.get("fix"),
            )
        )
    return findings


@dataclass(slots=True)
class _Field:
    """One field some kind changes: its values (by repr) and the kinds holding each; the
    first kind's value is held by every kind not named (`rest`)."""

    name: str
    values: dict[str, Value]
    kinds: dict[str, list[int]]
    sizes: dict[str, int]
    rest: str  # the repr of the first kind's value

    def order(self) -> list[str]:
        """The values, the most ranks first (ties by repr)."""
        return sorted(self.sizes, key=lambda k: (-self.sizes[k], k))

    @property
    def section(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def sparse(self) -> bool:
        """Most ranks lack it."""
        return self.order()[0] == "None"


def _fields(table: FleetTable) -> list[_Field]:
    """The fields some kind changes, each with its value groups: O(the deltas' size)."""
    changed: dict[str, list[int]] = defaultdict(list)
    for i, kind in enumerate(table.kinds):
        for name in kind.delta:
            changed[name].append(i)
    out = []
    for name in sorted(changed):
        base = table.base.get(name)
        f = _Field(
            name, {repr(base): base}, defaultdict(list), {repr(base): table.ranks}, repr(base)
        )
        for i in changed[name]:
            kind = table.kinds[i]
            value = kind.delta[name]
            key = repr(value)
            f.values[key] = value
            f.kinds[key].append(i)
            f.sizes[key] = f.sizes.get(key, 0) + len(kind.members)
            f.sizes[f.rest] -= len(kind.members)
        if not f.sizes[f.rest]:
            del f.sizes[f.rest]
        out.append(f)
    return out


def _divergent(table: FleetTable, reference: Mapping[str, Value] | None) -> list[Finding]:
    """EL-FLEET-DIVERGENT: one finding per field whose value is not the same on every rank."""
    fields = _fields(table)
    sparse: dict[str, int] = defaultdict(int)
    for f in fields:
        sparse[f.section] += f.sparse
    findings = []
    for f in fields:
        tail = f.sparse and sparse[f.section] > LONG_TAIL
        locked = None if reference is None else reference.get(f.name)
        findings.append(_divergent_finding(table, f, locked, tail=tail))
    return findings


def _members(table: FleetTable, f: _Field, key: str) -> list[Member]:
    """The ranks holding one value of a field, by rank (the first kind's value: every kind
    the field's deltas do not name)."""
    if key == f.rest:
        named = {i for ks in f.kinds.values() for i in ks}
        kinds = [k for i, k in enumerate(table.kinds) if i not in named]
    else:
        kinds = [table.kinds[i] for i in f.kinds[key]]
    return sorted(m for k in kinds for m in k.members)


def _divergent_finding(table: FleetTable, f: _Field, locked: Value, *, tail: bool) -> Finding:
    """The finding for one field: the majority value first, then the smaller groups (the
    outliers), each named. In a long tail (`tail`) the ranks lacking the field are counted,
    not listed."""
    by_size = f.order()
    majority, odd = by_size[0], by_size[1:]
    shown = odd if tail else by_size
    groups = {k: _members(table, f, k) for k in shown}
    where = [f"{_show(f.values[k])} on {_nodes(groups[k])}" for k in shown]
    evidence: dict[str, object] = {}
    if tail:
        where.insert(0, f"(none) on the other {f.sizes[majority]} of {table.ranks}")
        evidence = {"absent": f.sizes[majority], "tail": f.section}
    return Finding(
        check_id="EL-FLEET-DIVERGENT",
        severity=Severity.ERROR,
        field=f.name,
        locked=locked,
        observed=f.values[majority],
        why="ranks that disagree here can hang or corrupt the first collective",
        message=f"{f.name} differs across ranks: {_said(f.values[majority])} on "
        f"{f.sizes[majority]} of {table.ranks} rank(s), but "
        + "; ".join(f"{_said(f.values[k])} on {_where(groups[k])}" for k in odd),
        evidence={
            "values": {k: [rank for rank, _ in groups[k]] for k in shown},
            "hosts": {k: sorted({host for _, host in groups[k]}) for k in shown},
            "where": "; ".join(where),
            **evidence,
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


def _show(value: Value) -> str:
    return "(none)" if value is None else str(value)


def _said(value: Value) -> str:
    """A value in a sentence: quoted, and an unset one as "(none)", as in `where`."""
    return "(none)" if value is None else repr(value)
