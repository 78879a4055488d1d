"""Multi-node network checks: the interface and HCA variables name what exists on the node.

An interface named in NCCL_SOCKET_IFNAME or GLOO_SOCKET_IFNAME that does not exist is the
classic multi-node hang (the bootstrap never connects); an NCCL_IB_HCA that matches no
device sends NCCL to TCP sockets without a word; InfiniBand without the GPUDirect RDMA
module copies every message through host memory.

The variables' syntax, as NCCL parses it (src/misc/socket.cc, src/transport/net_ib.cc):
a comma list; a leading `^` excludes the listed names instead of selecting them; a
leading `=` (after any `^`) matches names exactly instead of as prefixes; NCCL_IB_HCA
entries may name a port (`mlx5_0:1`). GLOO_SOCKET_IFNAME is a comma list of exact
interface names (torch's ProcessGroupGloo creates one device per name).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from envlock.checks.context import CheckContext
from envlock.checks.registry import check
from envlock.facts import IbDeviceFacts, IbPortFacts, NetworkFacts
from envlock.findings import Finding, Severity


@dataclass(frozen=True, slots=True)
class NcclList:
    exclude: bool  # `^`: every name but these
    exact: bool  # `=`: whole names, not prefixes
    entries: list[tuple[str, int | None]]  # (name, port)

    def hit(self, entry: str, name: str) -> bool:
        return name == entry if self.exact else name.startswith(entry)

    def matches(self, name: str) -> bool:
        """Whether the list names `name` (before `^` is applied)."""
        return any(self.hit(entry, name) for entry, _ in self.entries)


def parse_nccl_list(value: str, *, ports: bool = False) -> NcclList:
    """NCCL_SOCKET_IFNAME / NCCL_IB_HCA syntax: `[^][=]name[:port][,name[:port]...]`."""
    text = value.strip()
    exclude = text.startswith("^")
    text = text[1:] if exclude else text
    exact = text.startswith("=")
    text = text[1:] if exact else text
    entries: list[tuple[str, int | None]] = []
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        port: int | None = None
        if ports and ":" in item:
            item, _, p = item.partition(":")
            port = int(p) if p.isascii() and p.isdigit() else None
        entries.append((item, port))
    return NcclList(exclude=exclude, exact=exact, entries=entries)


def _names(net: NetworkFacts) -> list[str]:
    return [i.name for i in net.interfaces]


def _network(ctx: CheckContext) -> NetworkFacts | None:
    net = ctx.facts.network
    return net if net is not None and net.unavailable is None else None


@check("EL-NET-IFNAME-MISSING")
def ifname_missing(ctx: CheckContext) -> Iterator[Finding]:
    net = _network(ctx)
    if net is None:
        return
    variables = ctx.facts.env.variables
    names = _names(net)
    nccl = variables.get("NCCL_SOCKET_IFNAME")
    if nccl is not None and nccl.strip():
        yield from _nccl_ifname(nccl, names)
    gloo = variables.get("GLOO_SOCKET_IFNAME")
    if gloo is not None and gloo.strip():
        yield from _gloo_ifname(gloo, names)


def _nccl_ifname(nccl: str, names: list[str]) -> Iterator[Finding]:
    spec = parse_nccl_list(nccl)
    if spec.exclude:
        if not [n for n in names if n != "lo" and not spec.matches(n)]:
            yield _ifname_finding(
                "NCCL_SOCKET_IFNAME",
                nccl,
                "excludes every interface this node has (but lo)",
                names,
                Severity.ERROR,
            )
        return
    bad = [e for e, _ in spec.entries if not any(spec.hit(e, n) for n in names)]
    if not bad:
        return
    some = len(bad) < len(spec.entries)
    yield _ifname_finding(
        "NCCL_SOCKET_IFNAME",
        nccl,
        f"names {', '.join(repr(b) for b in bad)}, "
        f"not {'the name' if spec.exact else 'a prefix'} of any interface here"
        + (" (NCCL uses the others)" if some else ""),
        names,
        Severity.WARNING if some else Severity.ERROR,
    )


def _gloo_ifname(gloo: str, names: list[str]) -> Iterator[Finding]:
    wanted = [g.strip() for g in gloo.split(",") if g.strip()]
    bad = [g for g in wanted if g not in names]
    if not bad:
        return
    yield _ifname_finding(
        "GLOO_SOCKET_IFNAME",
        gloo,
        f"names {', '.join(repr(b) for b in bad)}, which "
        + ("does" if len(bad) == 1 else "do")
        + " not exist here (gloo needs every listed interface)",
        names,
        Severity.ERROR,
    )


def _ifname_finding(
    var: str, value: str, problem: str, names: list[str], severity: Severity
) -> Finding:
    return Finding(
        check_id="EL-NET-IFNAME-MISSING",
        severity=severity,
        message=f"{var}={value!r} {problem}: the job's bootstrap can hang or fail on this node",
        evidence={var: value, "interfaces": names},
        fix=f"set {var} to an interface this node has ({', '.join(names) or 'none found'}), "
        "the same on every node, or unset it",
    )


@check("EL-NET-IB-HCA-MISSING")
def ib_hca_missing(ctx: CheckContext) -> Iterator[Finding]:
    net = _network(ctx)
    value = ctx.facts.env.variables.get("NCCL_IB_HCA")
    if net is None or value is None or not value.strip():
        return
    spec = parse_nccl_list(value, ports=True)
    devices = {d.name: d for d in net.ib_devices}
    present = [f"{d.name}:{p.port}" for d in net.ib_devices for p in d.ports] or sorted(devices)
    problem = _hca_excluded(spec, devices) if spec.exclude else _hca_selected(spec, devices)
    if problem is not None:
        text, severity = problem
        yield _hca_finding(value, text, present, severity)


def _hca_excluded(spec: NcclList, devices: dict[str, IbDeviceFacts]) -> tuple[str, Severity] | None:
    """`^list`: a problem only when it leaves no RDMA device."""
    left = [n for n in devices if not spec.matches(n)]
    if devices and not left:
        return "excludes every RDMA device here: NCCL uses TCP sockets", Severity.WARNING
    return None


def _hca_selected(spec: NcclList, devices: dict[str, IbDeviceFacts]) -> tuple[str, Severity] | None:
    """A list of devices: the names missing here first, else the ports that are down."""
    missing, down = _hca_entries(spec, devices)
    if missing:
        none_left = len(missing) == len(spec.entries)
        return (
            f"names {', '.join(repr(m) for m in missing)}, not on this node"
            + (": NCCL falls back to TCP sockets" if none_left else " (NCCL uses the others)"),
            Severity.ERROR if none_left else Severity.WARNING,
        )
    if down:
        return f"names ports that are not ACTIVE: {'; '.join(down)}", Severity.WARNING
    return None


def _hca_entries(spec: NcclList, devices: dict[str, IbDeviceFacts]) -> tuple[list[str], list[str]]:
    """The entries of NCCL_IB_HCA that name no port here, and those whose ports are all
    down (each with its ports' states)."""
    missing, down = [], []
    for name, port in spec.entries:
        hits = [d for n, d in devices.items() if spec.hit(name, n)]
        ports = [p for d in hits for p in d.ports if port is None or p.port == port]
        if not ports:
            missing.append(name if port is None else f"{name}:{port}")
        elif all(p.state != "ACTIVE" for p in ports):
            down.append(_port_states(hits, ports))
    return missing, down


def _port_states(hits: list[IbDeviceFacts], ports: list[IbPortFacts]) -> str:
    return ", ".join(
        f"{d.name}:{p.port} {p.state or 'state unknown'}"
        for d in hits
        for p in d.ports
        if p in ports
    )


def _hca_finding(value: str, problem: str, present: list[str], severity: Severity) -> Finding:
    return Finding(
        check_id="EL-NET-IB-HCA-MISSING",
        severity=severity,
        message=f"NCCL_IB_HCA={value!r} {problem}",
        evidence={"NCCL_IB_HCA": value, "rdma_ports": present},
        fix="set NCCL_IB_HCA to devices this node has ("
        + (", ".join(present) or "none found: unset it, or install the RDMA driver")
        + "), or check the cabling/subnet manager for ports that are down",
    )


@check("EL-NET-NO-GPUDIRECT")
def no_gpudirect(ctx: CheckContext) -> Iterator[Finding]:
    net = _network(ctx)
    gpus = ctx.facts.driver.gpus
    if net is None or not net.ib_devices or not gpus or net.gpudirect_module is not None:
        return
    if ctx.facts.env.variables.get("NCCL_NET_GDR_LEVEL", "").strip().upper() in ("0", "LOC"):
        return  # GPUDirect RDMA turned off on purpose
    yield Finding(
        check_id="EL-NET-NO-GPUDIRECT",
        severity=Severity.WARNING,
        message=f"{len(net.ib_devices)} RDMA device(s) and {len(gpus)} GPU(s), but the "
        "GPUDirect RDMA module (nvidia_peermem) is not loaded: NCCL stages every "
        "inter-node message through host memory",
        evidence={
            "rdma_devices": [d.name for d in net.ib_devices],
            "gpudirect_module": None,
        },
        fix="modprobe nvidia_peermem (it ships with the NVIDIA driver since R470; load it at "
        "boot, e.g. /etc/modules-load.d/nvidia-peermem.conf)",
    )
