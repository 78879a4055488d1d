"""The fleet under torchrun: every rank verifies, rank 0 reports which ranks and nodes differ.

Under torchrun (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT set), each rank
summarises its facts (`compare.summarize`: the flattened lock it would write, plus its
own verify findings). The ranks first check in on the rendezvous store (so a rank that
never starts is named, not waited on forever), then the summaries are exchanged through
the store (TCP to rank 0, no process group), and every rank computes the same verdict
from the same data, so all of them exit non-zero together and the launch stops before
the first collective hangs. A rank that never joins ends in a timeout naming the ranks
that did, never in a hang. `--smoke` adds one all-reduce on the job's backend.

torch is imported only here, and only when a rank joins.
"""

from __future__ import annotations

import datetime as _dt
import os
import socket
import time
from typing import Any, TypedDict

from envlock.errors import FactsError, UsageError, first_line
from envlock.findings import Finding, Severity
from envlock.fleet.compare import FleetError, RankSummary
from envlock.hostlist import compress_hostlist
from envlock.hostlist import ranges as _ranges


def _peer_json(text: str, what: str) -> object:
    """Another rank's JSON from the rendezvous store: bounded like a facts file (depth,
    integer digits), a FleetError line when it is not."""
    from envlock.facts import load_json

    try:
        return load_json(text)
    except FactsError as exc:
        raise FleetError(f"a rank sent an unreadable {what}: {exc}") from None


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
        mine: SmokeResult = {
            "host": hostname(),
            "status": outcome.get("status", "timeout"),
            "detail": outcome.get("detail", f"no result within {timeout:g} s"),
            "vars": {k: v for k, v in variables.items() if k in SMOKE_VARIABLES},
        }
        # the others may still be waiting out their own limit: give them that long
        self.timeout = max(self.timeout, timeout + 5)
        results = [
            smoke_result(_peer_json(r, "smoke test result"))
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


class SmokeResult(TypedDict, total=False):
    """One rank's outcome of the smoke all-reduce, as the ranks exchange it."""

    host: str
    status: str  # ok, error, timeout
    detail: str
    vars: dict[str, str]  # the interface variables (SMOKE_VARIABLES) set on that rank


def smoke_result(value: object) -> SmokeResult:
    """A rank's smoke outcome as sent (JSON): what is not a string is left out, so a rank
    that sent something else is reported as one that gave no answer."""
    if not isinstance(value, dict):
        return SmokeResult()
    out = SmokeResult()
    for key in ("host", "status", "detail"):
        if isinstance(value.get(key), str):
            out[key] = value[key]
    variables = value.get("vars")
    if isinstance(variables, dict):
        out["vars"] = {str(k): str(v) for k, v in variables.items()}
    return out


def smoke_findings(
    results: list[SmokeResult], backend: str, timeout: float, seconds: float
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


def _vars_text(result: SmokeResult) -> str:
    variables = result.get("vars") or {}
    if not variables:
        return " (no interface variables set)"
    return " (" + ", ".join(f"{k}={v}" for k, v in sorted(variables.items())) + ")"


def hostname() -> str:
    return socket.gethostname()
