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

from envlock.errors import EnvlockError, UsageError, first_line
from envlock.facts import Facts
from envlock.findings import Finding, Severity
from envlock.lock import Lock, build_lock, flatten

# Fields that legitimately differ per rank/node and are never compared across ranks.
_PER_RANK = ("meta.", "envlock.", "env.OMP_NUM_THREADS", "env.CUDA_VISIBLE_DEVICES")


class FleetError(EnvlockError):
    """The fleet could not be assembled (rendezvous timeout, missing rank)."""


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
    return RankSummary(
        rank=rank,
        host=host,
        fields=fields,
        findings=[f.to_dict() for f in findings if f.severity >= Severity.WARNING],
    )


def _where(ranks: list[RankSummary]) -> str:
    by_host: dict[str, list[int]] = defaultdict(list)
    for r in ranks:
        by_host[r.host].append(r.rank)
    return "; ".join(
        f"{h}: rank{'s' * (len(v) > 1)} {_ranges(sorted(v))}" for h, v in sorted(by_host.items())
    )


def _nodes(ranks: list[RankSummary]) -> str:
    """'2 nodes gpu-node-[007,041]': how many nodes and which, compressed like a Slurm hostlist."""
    hosts = {r.host for r in ranks}
    return f"{len(hosts)} node{'s' * (len(hosts) != 1)} {compress_hostlist(hosts)}"


_HOST_NUMBER = re.compile(r"^(.*?)(\d+)(\D*)$")


def compress_hostlist(hosts: Iterable[str]) -> str:
    """Host names the way cluster tools write them: `gpu-node-[001-006,008]`.

    Names that differ only in their last run of digits share one bracket (ranges for
    consecutive numbers); zero padding is kept, so `node09,node10` -> `node[09-10]` and
    `node9,node10` -> `node[9-10]`. Other names are listed as they are. Sorted, no repeats.
    """
    unique = sorted(set(hosts))
    parsed = [(h, _HOST_NUMBER.match(h)) for h in unique]
    padded = {(m[1], m[3], len(m[2])) for _, m in parsed if m and len(m[2]) > 1 and m[2][0] == "0"}
    groups: dict[tuple[str, str, int], set[int]] = defaultdict(set)
    plain: list[str] = []
    for host, m in parsed:
        if m is None:
            plain.append(host)
            continue
        prefix, digits, suffix = m[1], m[2], m[3]
        width = len(digits) if (prefix, suffix, len(digits)) in padded else 0
        groups[(prefix, suffix, width)].add(int(digits))
    out = []
    for (prefix, suffix, width), numbers in sorted(groups.items()):
        nums = sorted(numbers)
        if len(nums) == 1:
            out.append(
                f"{prefix}{nums[0]:0{width}d}{suffix}" if width else f"{prefix}{nums[0]}{suffix}"
            )
            continue
        out.append(f"{prefix}[{_ranges(nums, width)}]{suffix}")
    return ",".join(sorted(out + plain))


def _ranges(nums: list[int], width: int = 0) -> str:
    out, start = [], None
    for i, n in enumerate(nums):
        if start is None:
            start = n
        if i + 1 == len(nums) or nums[i + 1] != n + 1:
            a, b = f"{start:0{width}d}", f"{n:0{width}d}"
            out.append(a if start == n else f"{a}-{b}")
            start = None
    return ",".join(out)


def compare_ranks(summaries: list[RankSummary]) -> list[Finding]:
    """Findings over all ranks: lock drift per rank, and fields where ranks disagree."""
    findings: list[Finding] = []
    # 1. drift from the lock, grouped by (field, observed value) across ranks
    drift: dict[tuple[str, str, str], list[RankSummary]] = defaultdict(list)
    for s in summaries:
        for f in s.findings:
            key = (str(f.get("field") or f["id"]), repr(f.get("observed")), f["severity"])
            drift[key].append(s)
    for (name, _observed, severity), ranks in sorted(drift.items()):
        example = next(f for f in ranks[0].findings if str(f.get("field") or f["id"]) == name)
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
                    "where": f"on {_nodes(ranks)}",
                },
                fix=example.get("fix"),
            )
        )
    # 2. fields whose value is not the same on every rank
    all_fields = sorted({k for s in summaries for k in s.fields})
    for name in all_fields:
        groups: dict[str, list[RankSummary]] = defaultdict(list)
        values: dict[str, Any] = {}
        for s in summaries:
            v = s.fields.get(name)
            groups[repr(v)].append(s)
            values[repr(v)] = v
        if len(groups) < 2:
            continue
        majority = max(groups, key=lambda k: (len(groups[k]), k))
        odd = [(k, g) for k, g in groups.items() if k != majority]
        # every value with how many nodes hold it and which, the odd ones first
        by_size = sorted(groups, key=lambda k: (len(groups[k]), k))
        where = "; ".join(f"{_show(values[k])} on {_nodes(groups[k])}" for k in by_size)
        findings.append(
            Finding(
                check_id="EL-FLEET-DIVERGENT",
                severity=Severity.ERROR,
                field=name,
                locked=None,
                observed=values[majority],
                why="ranks that disagree here can hang or corrupt the first collective",
                message=f"{name} differs across ranks: {values[majority]!r} on {len(groups[majority])} "
                f"rank(s), but " + "; ".join(f"{values[k]!r} on {_where(g)}" for k, g in odd),
                evidence={
                    "values": {repr(values[k]): [r.rank for r in g] for k, g in groups.items()},
                    "where": where,
                },
                fix="make every node's environment identical (same image/venv, driver and variables)",
            )
        )
    return findings


def _show(value: Any) -> str:
    return "(none)" if value is None else str(value)


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
        """Every rank's summary, in rank order. A rank dying now is a gloo error within the limit."""
        import json

        dist = _dist()
        try:
            dist.init_process_group(
                "gloo",
                store=dist.PrefixStore(f"{self.prefix}pg/", self.store),
                rank=self.rank,
                world_size=self.world,
                timeout=_dt.timedelta(seconds=self.timeout),
            )
            gathered = _all_gather_bytes(dist, json.dumps(summary.to_dict()).encode(), self.world)
            dist.destroy_process_group()
        except Exception as exc:
            raise FleetError(
                f"rank {self.rank}: gathering facts over gloo failed: {first_line(exc, type(exc).__name__)}"
            ) from None
        return [RankSummary.from_dict(json.loads(data)) for data in gathered]

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


def _all_gather_bytes(dist: Any, data: bytes, world: int) -> list[bytes]:
    """all_gather of byte strings with plain tensors (all_gather_object wants numpy)."""
    import torch

    size = torch.tensor([len(data)], dtype=torch.int64)
    sizes = [torch.zeros(1, dtype=torch.int64) for _ in range(world)]
    dist.all_gather(sizes, size)
    longest = max(int(s.item()) for s in sizes)
    buf = torch.zeros(longest, dtype=torch.uint8)
    buf[: len(data)] = torch.frombuffer(bytearray(data), dtype=torch.uint8)
    bufs = [torch.zeros(longest, dtype=torch.uint8) for _ in range(world)]
    dist.all_gather(bufs, buf)
    return [bytes(b[: int(n.item())].tolist()) for b, n in zip(bufs, sizes, strict=True)]


def report_dir(
    directory: str, lock: Lock | None, *, scope: str
) -> tuple[list[RankSummary], list[Finding]]:
    """Per-node facts files (from `envlock probe --json`) compared like ranks. A node file
    that cannot be read is reported (EL-FLEET-NODE-UNREADABLE) and the others compared."""
    from pathlib import Path

    from envlock.errors import FactsError
    from envlock.facts import read_facts_file
    from envlock.verify import verify

    if not Path(directory).is_dir():
        raise FleetError(f"{directory}: not a directory of facts files")
    paths = sorted(p for p in Path(directory).glob("*.json"))
    if not paths:
        raise FleetError(
            f"{directory}: no *.json facts files (write them with `envlock probe --json`)"
        )
    summaries: list[RankSummary] = []
    unreadable: list[Finding] = []
    loaded = []
    for path in paths:
        try:
            loaded.append((path, read_facts_file(str(path))))
        except FactsError as exc:
            unreadable.append(
                Finding(
                    check_id="EL-FLEET-NODE-UNREADABLE",
                    severity=Severity.ERROR,
                    message=f"{path.name}: {first_line(exc)}",
                    fix="rewrite it with `envlock probe --json` on that node",
                    evidence={"file": str(path)},
                )
            )
    if not loaded:
        raise FleetError(f"{directory}: none of the {len(paths)} facts files could be read")
    # a node is named by its hostname; files that share one are told apart by file name
    names = [facts.system.hostname or path.stem for path, facts in loaded]
    for i, ((path, facts), host) in enumerate(zip(loaded, names, strict=True)):
        findings = verify(lock, facts, scope=scope) if lock is not None else []
        if names.count(host) > 1:
            host = f"{host} ({path.name})"
        summaries.append(summarize(i, host, facts, findings, scope))
    return summaries, [*unreadable, *compare_ranks(summaries)]


def hostname() -> str:
    return socket.gethostname()
