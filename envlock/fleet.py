"""Fleet: every rank verifies, rank 0 reports which ranks and nodes differ.

Under torchrun (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT set), each rank
summarises its facts (the flattened lock it would write, plus its own verify
findings). The ranks first check in on the rendezvous store (so a rank that
never starts is named, not waited on forever), then the summaries are
all-gathered over a gloo process group (no GPU, no NCCL), and every rank computes the same verdict from the same data, so
all of them exit non-zero together and the launch stops before the first
collective hangs. A rank that never joins ends in a timeout naming the ranks
that did, never in a hang.

`envlock fleet report DIR` runs the same comparison over facts files written
per node by `envlock probe --json` (srun, Kubernetes jobs without torchrun).
"""

from __future__ import annotations

import datetime as _dt
import os
import re
import socket
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from envlock.errors import EnvlockError, FactsError, UsageError, first_line
from envlock.facts import MAX_INT_DIGITS, Facts
from envlock.findings import Finding, Severity
from envlock.hostlist import Hostlist as Hostlist  # fleet owns hostlists
from envlock.hostlist import compress_hostlist
from envlock.hostlist import parse_hostlist as parse_hostlist
from envlock.hostlist import ranges as _ranges
from envlock.lock import Lock, build_lock, flatten

# Fields that legitimately differ per rank/node and are never compared across ranks.
_PER_RANK = ("meta.", "envlock.", "env.OMP_NUM_THREADS", "env.CUDA_VISIBLE_DEVICES")


class FleetError(EnvlockError):
    """The fleet could not be assembled (rendezvous timeout, missing rank)."""


def _peer_json(text: str, what: str) -> Any:
    """Another rank's JSON from the rendezvous store: bounded like a facts file (depth,
    integer digits), a FleetError line when it is not."""
    from envlock.facts import load_json

    try:
        return load_json(text)
    except FactsError as exc:
        raise FleetError(f"a rank sent an unreadable {what}: {exc}") from None


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
    lock = build_lock(facts, scope="full", created="-")
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


# Up to this many nodes a message names each node with its ranks; past it, a hostlist.
_NAME_EACH_UP_TO = 8


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
    import json

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
    findings: list[Finding] = []
    kinds = _identical(summaries)
    # 1. drift from the lock, grouped by (field, observed value) across ranks
    drift: dict[tuple[str, str, str], list[RankSummary]] = defaultdict(list)
    examples: dict[tuple[str, str, str], dict[str, Any]] = {}
    for kind in kinds:
        for f in kind[0].findings:
            key = (str(f.get("field") or f["id"]), repr(f.get("observed")), f["severity"])
            drift[key].extend(kind)
            examples.setdefault(key, f)
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
    # 2. fields whose value is not the same on every rank
    all_fields = sorted({k for kind in kinds for k in kind[0].fields})
    for name in all_fields:
        groups: dict[str, list[RankSummary]] = defaultdict(list)
        values: dict[str, Any] = {}
        for kind in kinds:
            v = kind[0].fields.get(name)
            groups[repr(v)].extend(kind)
            values[repr(v)] = v
        if len(groups) < 2:
            continue
        for g in groups.values():
            g.sort(key=lambda r: r.rank)
        # majority first, then the smaller groups: the outliers, each named
        by_size = sorted(groups, key=lambda k: (-len(groups[k]), k))
        majority, odd = by_size[0], by_size[1:]
        where = "; ".join(f"{_show(values[k])} on {_nodes(groups[k])}" for k in by_size)
        total = sum(len(g) for g in groups.values())
        findings.append(
            Finding(
                check_id="EL-FLEET-DIVERGENT",
                severity=Severity.ERROR,
                field=name,
                locked=None if reference is None else reference.get(name),
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
        )
    return findings


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


def torchrun_env() -> tuple[int, int] | None:
    """(rank, world size) when launched by torchrun or an equivalent launcher."""
    try:
        rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    except (KeyError, ValueError):
        return None
    if "MASTER_ADDR" not in os.environ or "MASTER_PORT" not in os.environ:
        return None
    return rank, world


class Rendezvous:
    """One rank's membership in the fleet check: join, all-gather, then leave together.

    `join()` checks in on the rendezvous store and waits for every rank, polling so a
    rank that never starts is named (by the ranks that did) rather than waited on;
    `all_gather()` exchanges summaries over a gloo process group; `leave()` is a last
    barrier, called after rank 0 has printed its report, so that every rank exits with
    the same verdict together before a launcher tears the group down on the first
    non-zero exit.
    """

    def __init__(self, store: Any, rank: int, world: int, timeout: float) -> None:
        self.store, self.rank, self.world, self.timeout = store, rank, world, timeout
        self.prefix = f"envlock/fleet/{os.environ.get('TORCHELASTIC_RUN_ID', 'run')}/"

    @classmethod
    def join(cls, *, timeout: float) -> Rendezvous:
        env = torchrun_env()
        if env is None:
            raise UsageError(
                "--distributed needs RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT "
                "(launch with torchrun, e.g. `torchrun --nproc-per-node 8 -m envlock verify LOCK --distributed`)"
            )
        rank, world = env
        # c10d logs every socket timeout at WARNING from C++; our own message says it once.
        os.environ.setdefault("TORCH_CPP_LOG_LEVEL", "ERROR")
        dist = _dist()
        addr, port = os.environ["MASTER_ADDR"], int(os.environ["MASTER_PORT"])
        # TORCHELASTIC_USE_AGENT_STORE: torchrun's agent already hosts the store.
        use_agent = os.environ.get("TORCHELASTIC_USE_AGENT_STORE", "").lower() == "true"
        try:
            store = dist.TCPStore(
                addr,
                port,
                world,
                is_master=(rank == 0 and not use_agent),
                timeout=_dt.timedelta(seconds=timeout),
                wait_for_workers=False,
            )
        except Exception as exc:  # RuntimeError/DistNetworkError from c10d
            raise FleetError(
                f"rank {rank}: cannot reach the rendezvous at {addr}:{port} "
                f"within {timeout:g} s: {first_line(exc, type(exc).__name__)}"
            ) from None
        self = cls(store, rank, world, timeout)
        self._check_in()
        return self

    def _check_in(self) -> None:
        store, p = self.store, self.prefix
        keys = [f"{p}joined/{r}" for r in range(self.world)]
        deadline = time.monotonic() + self.timeout
        try:
            store.set(keys[self.rank], "1")
            while not store.check(keys):
                # Rank 0 decides for everyone once its limit passes, so every rank
                # that did start names the same missing ranks.
                if store.check([f"{p}abort"]):
                    store.add(f"{p}abort-read", 1)
                    raise FleetError(store.get(f"{p}abort").decode())
                if time.monotonic() > deadline:
                    joined = [r for r in range(self.world) if store.check([keys[r]])]
                    missing = [r for r in range(self.world) if r not in joined]
                    message = (
                        f"fleet rendezvous timed out after {self.timeout:g} s: {len(joined)} of "
                        f"{self.world} ranks joined; missing rank(s) {_ranges(missing)} never "
                        "started or crashed"
                    )
                    if self.rank == 0:
                        store.set(f"{p}abort", message)
                        # Keep the store (hosted here) up until the others have read it.
                        self._wait_count(f"{p}abort-read", len(joined) - 1, grace=self.timeout)
                    raise FleetError(message)
                time.sleep(0.02)
        except FleetError:
            raise
        except Exception as exc:  # the store went away: rank 0 (its host) has exited
            raise FleetError(
                f"rank {self.rank}: lost the rendezvous store (rank 0 exited?): {first_line(exc, type(exc).__name__)}"
            ) from None

    def _wait_count(self, key: str, target: int, *, grace: float) -> None:
        deadline = time.monotonic() + grace
        while int(self.store.add(key, 0)) < target and time.monotonic() < deadline:
            time.sleep(0.005)

    def all_gather(self, summary: RankSummary) -> list[RankSummary]:
        """Every rank's summary, in rank order, through the rendezvous store (TCP to rank 0's
        store, no process group): a wrong GLOO_SOCKET_IFNAME or NCCL setting on one rank
        cannot stop the facts from arriving, so the report can name that rank. A rank dying
        now ends in a FleetError within the limit."""
        import json

        p = f"{self.prefix}summary/"
        data = self._exchange(p, json.dumps(summary.to_dict()), what="gathering facts")
        return [RankSummary.from_dict(_peer_json(d, "facts")) for d in data]

    def _exchange(self, prefix: str, value: str, *, what: str) -> list[str]:
        """Set this rank's value under `prefix`, then read every rank's (polling, limit)."""
        keys = [f"{prefix}{r}" for r in range(self.world)]
        deadline = time.monotonic() + self.timeout
        try:
            self.store.set(keys[self.rank], value)
            while not self.store.check(keys):
                if time.monotonic() > deadline:
                    missing = [r for r in range(self.world) if not self.store.check([keys[r]])]
                    raise FleetError(
                        f"rank {self.rank}: {what} timed out after {self.timeout:g} s: "
                        f"rank(s) {_ranges(missing)} sent nothing"
                    )
                time.sleep(0.02)
            return [self.store.get(k).decode() for k in keys]
        except FleetError:
            raise
        except Exception as exc:
            raise FleetError(
                f"rank {self.rank}: {what} through the rendezvous store failed: "
                f"{first_line(exc, type(exc).__name__)}"
            ) from None

    def smoke(self, *, timeout: float) -> list[Finding]:
        """One small all-reduce on the job's backend (NCCL with GPUs, else gloo) within
        `timeout` s. Each rank runs it in a thread and posts its outcome (ok, the error,
        or no answer in time) to the store; every rank reads all outcomes, so every rank
        reports the same ranks, with their host and interface variables, and exits alike."""
        import json
        import threading

        from envlock.probe.envvars import collect as collect_env

        backend = smoke_backend()
        outcome: dict[str, str] = {}

        def run() -> None:
            try:
                seconds = _all_reduce(backend, self, timeout)
                outcome["status"], outcome["detail"] = "ok", f"{seconds * 1000:.0f} ms"
            except Exception as exc:  # any failure of init or the collective is the verdict
                outcome["status"] = "error"
                outcome["detail"] = first_line(exc, type(exc).__name__)[:500]

        started = time.monotonic()
        worker = threading.Thread(target=run, name="envlock-smoke", daemon=True)
        worker.start()
        worker.join(timeout)
        variables = collect_env().get("variables", {})
        mine = {
            "host": hostname(),
            "status": outcome.get("status", "timeout"),
            "detail": outcome.get("detail", f"no result within {timeout:g} s"),
            "vars": {k: v for k, v in variables.items() if k in SMOKE_VARIABLES},
        }
        # the others may still be waiting out their own limit: give them that long
        self.timeout = max(self.timeout, timeout + 5)
        results = [
            _peer_json(r, "smoke test result")
            for r in self._exchange(f"{self.prefix}smoke/", json.dumps(mine), what="smoke test")
        ]
        return smoke_findings(results, backend, timeout, time.monotonic() - started)

    def leave(self) -> None:
        """A last barrier: rank 0's store stays up until everyone is done; all exit together."""
        try:
            self.store.add(f"{self.prefix}done", 1)
            self._wait_count(f"{self.prefix}done", self.world, grace=self.timeout)
        except Exception:
            pass  # a rank that cannot reach the barrier still exits with its own verdict


def _dist() -> Any:
    try:
        import torch.distributed as dist
    except ImportError:
        raise FleetError("--distributed needs torch in this interpreter") from None
    if not dist.is_available():
        raise FleetError("this torch build has no torch.distributed")
    return dist


# What a smoke-test failure shows of each rank: the variables that pick its interface.
SMOKE_VARIABLES = (
    "NCCL_SOCKET_IFNAME",
    "GLOO_SOCKET_IFNAME",
    "NCCL_IB_HCA",
    "NCCL_IB_DISABLE",
    "NCCL_NET",
)


def smoke_backend() -> str:
    """The backend the job's collectives will use: NCCL where CUDA is, else gloo."""
    import torch

    dist = _dist()
    return "nccl" if torch.cuda.is_available() and dist.is_nccl_available() else "gloo"


def _all_reduce(backend: str, group: Rendezvous, timeout: float) -> float:
    """init_process_group on `backend` and one all-reduce of a 1-element tensor; seconds."""
    import torch

    dist = _dist()
    t0 = time.monotonic()
    device = "cpu"
    if backend == "nccl":
        local = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local)
        device = f"cuda:{local}"
    dist.init_process_group(
        backend,
        store=dist.PrefixStore(f"{group.prefix}smoke-pg/", group.store),
        rank=group.rank,
        world_size=group.world,
        timeout=_dt.timedelta(seconds=timeout),
    )
    value = torch.ones(1, device=device)
    dist.all_reduce(value)
    if int(value.item()) != group.world:
        raise FleetError(f"all-reduce gave {value.item():g}, not {group.world}")
    return time.monotonic() - t0


def smoke_findings(
    results: list[dict[str, Any]], backend: str, timeout: float, seconds: float
) -> list[Finding]:
    """EL-FLEET-SMOKE-FAILED for the ranks that failed or gave no answer, the failed first
    (a rank that errors leaves the others waiting until their limit)."""
    failed = [(r, x) for r, x in enumerate(results) if x.get("status") == "error"]
    silent = [(r, x) for r, x in enumerate(results) if x.get("status") not in ("ok", "error")]
    findings = []
    for rank, x in failed:
        findings.append(
            Finding(
                check_id="EL-FLEET-SMOKE-FAILED",
                severity=Severity.ERROR,
                message=f"rank {rank} on {x.get('host')} failed the {backend} all-reduce: "
                f"{x.get('detail')}" + _vars_text(x),
                evidence={"rank": rank, "host": x.get("host"), **x.get("vars", {})},
                fix="check the interface variables against `ip link` on that node "
                "(`envlock doctor` there names a missing interface), then relaunch",
            )
        )
    if silent:
        ranks = [r for r, _ in silent]
        hosts = sorted({str(x.get("host")) for _, x in silent})
        findings.append(
            Finding(
                check_id="EL-FLEET-SMOKE-FAILED",
                severity=Severity.ERROR,
                message=f"rank(s) {_ranges(ranks)} on {compress_hostlist(hosts)} did not finish "
                f"the {backend} all-reduce within {timeout:g} s"
                + (" (waiting for the rank(s) that failed)" if failed else "")
                + (_vars_text(silent[0][1]) if len(silent) == 1 else ""),
                evidence={"ranks": ranks, "hosts": hosts, "where": compress_hostlist(hosts)},
                fix="a rank that cannot reach the others: check NCCL_SOCKET_IFNAME/"
                "GLOO_SOCKET_IFNAME and the firewall between the nodes",
            )
        )
    return findings


def _vars_text(result: dict[str, Any]) -> str:
    variables = result.get("vars") or {}
    if not variables:
        return " (no interface variables set)"
    return " (" + ", ".join(f"{k}={v}" for k, v in sorted(variables.items())) + ")"


def report_dir(
    directory: str,
    lock: Lock | None,
    *,
    scope: str,
    expected: Hostlist | None = None,
) -> tuple[list[RankSummary], list[Finding]]:
    """Per-node facts files (from `envlock probe --json`) compared like ranks. A node file
    that cannot be read is reported (EL-FLEET-NODE-UNREADABLE) and the others compared;
    `expected` (from --nodes) names nodes that must have sent a file (EL-FLEET-NODE-MISSING).

    Streamed: each file is read, summarised and dropped, so memory holds one summary per
    kind of node, not 10,000 Facts. Files whose content differs only in per-node values
    (host name, timestamps, timings, GPU UUIDs) share one summary (`NodeSummarizer`)."""
    from pathlib import Path

    if not Path(directory).is_dir():
        raise FleetError(f"{directory}: not a directory of facts files")
    with os.scandir(directory) as entries:  # names sorted as strings: no Path per compare
        names = sorted(e.name for e in entries if e.name.endswith(".json"))
    paths = [Path(directory, n) for n in names]
    if not paths:
        raise FleetError(
            f"{directory}: no *.json facts files (write them with `envlock probe --json`)"
        )
    summarizer = NodeSummarizer(lock, scope)
    read: list[tuple[Path, str, dict[str, Any], list[dict[str, Any]]]] = []
    unreadable: list[Finding] = []
    for path in paths:
        try:
            host, fields, findings = summarizer.summarize_file(path)
        except EnvlockError as exc:
            unreadable.append(
                Finding(
                    check_id="EL-FLEET-NODE-UNREADABLE",
                    severity=Severity.ERROR,
                    message=f"{path.name}: {first_line(exc)}",
                    fix="rewrite it with `envlock probe --json` on that node",
                    evidence={"file": str(path)},
                )
            )
            continue
        read.append((path, host, fields, findings))
    if not read:
        raise FleetError(f"{directory}: none of the {len(paths)} facts files could be read")
    # a node is named by its hostname; files that share one are told apart by file name
    from collections import Counter

    counts = Counter(host for _, host, _, _ in read)
    summaries = [
        RankSummary(
            rank=i,
            host=host if counts[host] == 1 else f"{host} ({path.name})",
            fields=fields,
            findings=findings,
        )
        for i, (path, host, fields, findings) in enumerate(read)
    ]
    reference = flatten(lock, scope=scope) if lock is not None else None
    out = [*unreadable, *compare_ranks(summaries, reference)]
    if expected is not None:
        missing = missing_nodes(expected, counts)
        if missing is not None:
            out.insert(0, missing)
    return summaries, out


# Values that differ from node to node and never reach a summary (the lock holds no host
# names, timestamps, timings or GPU UUIDs): two files equal but for these summarise alike.
_PER_NODE_KEYS = ("collected_at", "durations_ms", "hostname", "import_seconds", "seconds", "uuid")
# After one of those keys, its value: a JSON scalar, or durations_ms' flat table of numbers.
_VALUE = re.compile(
    rb'\s*:\s*("(?:[^"\\\x00-\x1f]|\\.)*"|-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?'
    rb"|null|true|false|\{[^{}]*\})"
)
_SPAN = re.compile(rb'"(' + b"|".join(k.encode() for k in _PER_NODE_KEYS) + rb')"' + _VALUE.pattern)


def _spans(raw: bytes) -> list[tuple[int, int, str]]:
    """(start, end, key) of each per-node key's value in the raw bytes, in file order."""
    return [(m.start(2), m.end(2), m[1].decode()) for m in _SPAN.finditer(raw)]


def _skeleton(raw: bytes) -> tuple[bytes | None, list[tuple[str, bytes]]]:
    """(sha256 of the bytes with the per-node values cut out, [(key, value bytes)]);
    no digest when the matches overlap (not a file envlock wrote: parsed in full)."""
    import hashlib

    parts, spans, pos = [], [], 0
    for begin, stop, key in _spans(raw):
        if begin < pos:
            return None, []
        parts.append(raw[pos:begin])
        parts.append(b"\x00")  # never in valid JSON outside a string's escapes
        spans.append((key, raw[begin:stop]))
        pos = stop
    parts.append(raw[pos:])
    return hashlib.sha256(b"".join(parts)).digest(), spans


def _scalar(text: bytes) -> Any:
    """A value `_VALUE` matched, as json.loads reads it (ValueError when it is not JSON)."""
    import json

    if text[:1] == b'"' and b"\\" not in text:
        return text[1:-1].decode("utf-8")
    if text[:1].isdigit() or text[:1] == b"-":
        if any(c in text for c in b".eE"):
            return float(text)
        if len(text.lstrip(b"-")) > MAX_INT_DIGITS:  # as load_json refuses it
            raise ValueError("integer too long")
        return int(text)
    return json.loads(text)


def _per_node(doc: dict[str, Any]) -> list[tuple[str, Any]]:
    """(key, value) of each per-node value at the paths where Facts has them."""
    spots: list[tuple[str, Any]] = []

    def table(d: Any, *keys: str) -> Any:
        for k in keys:
            d = d.get(k) if isinstance(d, dict) else None
        return d if isinstance(d, dict) else None

    for parent, key in (
        (table(doc, "meta"), "collected_at"),
        (table(doc, "meta"), "durations_ms"),
        (table(doc, "system"), "hostname"),
        (table(doc, "torch", "live"), "import_seconds"),
        (table(doc, "determinism"), "seconds"),
    ):
        if parent is not None and key in parent:
            spots.append((key, parent[key]))
    gpus = (table(doc, "driver") or {}).get("gpus")
    if isinstance(gpus, list):
        spots.extend(("uuid", g["uuid"]) for g in gpus if isinstance(g, dict) and "uuid" in g)
    classes = table(doc, "determinism", "classes") or {}
    spots.extend(
        ("seconds", c["seconds"])
        for c in classes.values()
        if isinstance(c, dict) and "seconds" in c
    )
    return spots


def _keys_anywhere(value: Any, counts: dict[str, int]) -> None:
    """How often each per-node key name occurs as a key anywhere in the document."""
    if isinstance(value, dict):
        for k, v in value.items():
            if k in _PER_NODE_KEYS:
                counts[k] = counts.get(k, 0) + 1
            _keys_anywhere(v, counts)
    elif isinstance(value, list):
        for v in value:
            _keys_anywhere(v, counts)


def _kind(value: Any) -> str:
    """The JSON type of a per-node value; a reused summary needs the same type in each spot."""
    if isinstance(value, dict):
        ok = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value.values())
        return "table of numbers" if ok else "table"
    return type(value).__name__


@dataclass(frozen=True, slots=True)
class _Kind:
    """What files with one skeleton summarise to, and the type of each per-node value."""

    fields: dict[str, Any]
    findings: list[dict[str, Any]]
    kinds: tuple[str, ...]
    host: int | None  # which per-node value is system.hostname


class NodeSummarizer:
    """One facts file -> (host, fields, findings); files with the same skeleton share one
    summary.

    The skeleton is the file's bytes with the per-node values (`_PER_NODE_KEYS`) cut out.
    The first file with a skeleton is parsed and validated in full (Facts), summarised,
    and its skeleton kept only when the cut-out values are exactly those at Facts' per-node
    paths (no package or variable of the same name elsewhere). A later file with the same
    skeleton is the same document but for those values: each is parsed on its own and
    must have the type the first file had there, so the file is valid JSON and valid
    Facts without parsing the rest. 10,000 files of a few kinds: 10,000 hashes, a few
    full parses.
    """

    def __init__(self, lock: Lock | None, scope: str) -> None:
        self.lock, self.scope = lock, scope
        self.seen: dict[bytes, _Kind | None] = {}  # None: parse every file with it

    def summarize_file(self, path: Any) -> tuple[str, dict[str, Any], list[dict[str, Any]]]:

        from envlock.errors import FactsError
        from envlock.facts import load_json, read_facts_file
        from envlock.safeio import UnreadableFile, read_bounded

        try:
            raw = read_bounded(path)
        except UnreadableFile:
            read_facts_file(str(path))  # raises with the message a single file gets
            raise  # pragma: no cover - read_facts_file raised
        digest, spans = _skeleton(raw)
        known = self.seen.get(digest) if digest is not None else None
        if known is not None and len(spans) == len(known.kinds):
            try:
                values = [_scalar(v) for _, v in spans]
            except ValueError:
                values = None
            if values is not None and all(
                _kind(v) == k for v, k in zip(values, known.kinds, strict=True)
            ):
                host = values[known.host] if known.host is not None else None
                return str(host or path.stem), known.fields, known.findings
        try:
            doc = load_json(raw)  # integers bounded: one such file is that node's finding
        except FactsError:
            read_facts_file(str(path))  # raises with the message a single file gets
            raise FactsError(f"{path}: facts are not valid JSON") from None  # pragma: no cover
        try:
            facts = Facts.from_dict(doc)
        except FactsError as exc:
            raise FactsError(f"{path}: {exc}") from None
        from envlock.verify import verify

        findings = verify(self.lock, facts, scope=self.scope) if self.lock is not None else []
        summary = summarize(0, "", facts, findings, self.scope)
        if digest is not None and digest not in self.seen:
            self.seen[digest] = self._kind_of(doc, spans, summary)
        return facts.system.hostname or path.stem, summary.fields, summary.findings

    @staticmethod
    def _kind_of(
        doc: dict[str, Any], spans: list[tuple[str, bytes]], summary: RankSummary
    ) -> _Kind | None:
        """The skeleton's _Kind when the values cut out are exactly those at the per-node
        paths: every key of those names in the document was cut, and sits on such a path."""

        def count(keys: Iterable[str]) -> dict[str, int]:
            out: dict[str, int] = {}
            for k in keys:
                out[k] = out.get(k, 0) + 1
            return out

        anywhere: dict[str, int] = {}
        _keys_anywhere(doc, anywhere)
        cut = [k for k, _ in spans]
        if not (count(cut) == count(k for k, _ in _per_node(doc)) == anywhere):
            return None
        try:
            kinds = tuple(_kind(_scalar(v)) for _, v in spans)
        except ValueError:
            return None
        return _Kind(
            summary.fields,
            summary.findings,
            kinds,
            cut.index("hostname") if "hostname" in cut else None,
        )


def hostname() -> str:
    return socket.gethostname()
