"""Network checks and the network probe: interface and HCA variables against what the
node has, and GPUDirect RDMA.

Bases: the H100 host (tests/facts_builders.py) with the network section recorded on
the dev machine (tests/fixtures/network.dev-container-recorded.json: eth0, ifb0, ifb1,
lo; no RDMA), or with the network section the probe reads from a sysfs tree laid out
like a ConnectX InfiniBand node's (built below: mlx5_0-3, one port each, ib0-3 IPoIB
interfaces and an Ethernet port).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import cache
from pathlib import Path

import pytest

from envlock.checks import run_checks
from envlock.checks.network import parse_nccl_list
from envlock.facts import Facts, NetworkFacts
from envlock.findings import Severity
from envlock.fleet import compare_ranks, summarize
from envlock.probe import network
from envlock.typed import Reader
from tests.conftest import load_fixture_json
from tests.facts_builders import edit, h100_host

RECORDED = "network.dev-container-recorded.json"


def _network(doc: dict[str, object]) -> NetworkFacts:
    from envlock.errors import FactsError

    return Reader(error=FactsError).build(NetworkFacts, doc)


@cache
def dev_node() -> Facts:
    return edit(h100_host(), "network", _network(load_fixture_json(RECORDED)["network"]))


def ib_sysfs(root: Path, *, down: tuple[str, ...] = (), peermem: bool = False) -> Path:
    """/sys of a node with four ConnectX InfiniBand ports (mlx5_0-3, port 1 each; the
    state file reads `4: ACTIVE` or `1: DOWN`, as the kernel's ib_core writes it)."""
    sys_root = root / "sys"
    for name, kind, dev in (("eno1", 1, True), ("lo", 772, False), ("docker0", 1, False)):
        d = sys_root / "class/net" / name
        d.mkdir(parents=True)
        (d / "operstate").write_text("up\n" if name != "lo" else "unknown\n")
        (d / "type").write_text(f"{kind}\n")
        if dev:
            (d / "device").mkdir()
    for i in range(4):
        d = sys_root / "class/net" / f"ib{i}"
        d.mkdir(parents=True)
        (d / "operstate").write_text("up\n")
        (d / "type").write_text("32\n")
        (d / "device").mkdir()
        port = sys_root / f"class/infiniband/mlx5_{i}/ports/1"
        port.mkdir(parents=True)
        dev_name = f"mlx5_{i}"
        (port / "state").write_text("1: DOWN\n" if dev_name in down else "4: ACTIVE\n")
        (port / "link_layer").write_text("InfiniBand\n")
    if peermem:
        (sys_root / "module/nvidia_peermem").mkdir(parents=True)
    (root / "proc").mkdir()
    return root


def ib_node_from(root: Path) -> Facts:
    doc = network.collect(str(root / "sys"), str(root / "proc"))
    return edit(h100_host(), "network", _network(doc))


@cache
def ib_node() -> Facts:
    import tempfile

    return ib_node_from(ib_sysfs(Path(tempfile.mkdtemp(prefix="envlock-ib-"))))


def _env(f: Facts, **variables: str) -> Facts:
    return edit(f, "env.variables", {**f.env.variables, **variables})


def test_probe_reads_an_infiniband_node(tmp_path: Path) -> None:
    doc = network.collect(str(ib_sysfs(tmp_path, down=("mlx5_3",)) / "sys"), str(tmp_path / "proc"))
    assert doc["unavailable"] is None
    by_name = {i["name"]: i for i in doc["interfaces"]}
    assert by_name["ib0"] == {"name": "ib0", "operstate": "up", "arp_type": 32, "physical": True}
    assert by_name["docker0"]["physical"] is False and by_name["lo"]["arp_type"] == 772
    assert [d["name"] for d in doc["ib_devices"]] == ["mlx5_0", "mlx5_1", "mlx5_2", "mlx5_3"]
    assert doc["ib_devices"][0]["ports"] == [
        {"port": 1, "state": "ACTIVE", "link_layer": "InfiniBand"}
    ]
    assert doc["ib_devices"][3]["ports"][0]["state"] == "DOWN"
    assert doc["gpudirect_module"] is None


def test_probe_finds_the_gpudirect_module(tmp_path: Path) -> None:
    root = ib_sysfs(tmp_path, peermem=True)
    assert network.gpudirect_module(str(root / "sys"), str(root / "proc")) == "nvidia_peermem"
    other = tmp_path / "other"
    (other / "proc").mkdir(parents=True)
    # /proc/modules as the kernel writes it: name size refcount deps state address
    (other / "proc/modules").write_text(
        "nv_peer_mem 16384 0 - Live 0x0000000000000000 (OE)\n"
        "nvidia 56410112 2 nv_peer_mem, Live 0x0000000000000000 (POE)\n"
    )
    assert network.gpudirect_module(str(other / "sys"), str(other / "proc")) == "nv_peer_mem"


def test_probe_without_sysfs_is_unavailable(tmp_path: Path) -> None:
    doc = network.collect(str(tmp_path / "nosys"), str(tmp_path / "noproc"))
    assert doc["unavailable"].startswith("cannot list")


def test_probe_on_this_machine_matches_the_recording_shape() -> None:
    doc = network.collect()
    assert doc["unavailable"] is None
    assert {i["name"] for i in doc["interfaces"]} >= {"lo"}
    _network(doc)  # a valid Facts section


@pytest.mark.parametrize(
    ("value", "exclude", "exact", "entries"),
    [
        ("eth", False, False, [("eth", None)]),
        ("^docker,lo", True, False, [("docker", None), ("lo", None)]),
        ("=eth0", False, True, [("eth0", None)]),
        ("^=docker0", True, True, [("docker0", None)]),
        ("mlx5_0:1, mlx5_1:1", False, False, [("mlx5_0", 1), ("mlx5_1", 1)]),
    ],
)
def test_parse_nccl_list(
    value: str, exclude: bool, exact: bool, entries: list[tuple[str, int | None]]
) -> None:
    spec = parse_nccl_list(value, ports=True)
    assert (spec.exclude, spec.exact, spec.entries) == (exclude, exact, entries)


Build = Callable[[], Facts]
IFN, HCA, GDR = "EL-NET-IFNAME-MISSING", "EL-NET-IB-HCA-MISSING", "EL-NET-NO-GPUDIRECT"
ERR, WARN = Severity.ERROR, Severity.WARNING


def env(base: Build, **variables: str) -> Build:
    return lambda: _env(base(), **variables)


def _peermem() -> Facts:
    net = ib_node().network
    assert net is not None
    return edit(ib_node(), "network", dataclasses.replace(net, gpudirect_module="nvidia_peermem"))


CASES: list[tuple[str, str, Build, Severity | None, str | None]] = [
    # (check, what, facts, severity when it fires or None when quiet, a message substring)
    (IFN, "NCCL ib0 on eth0 node", env(dev_node, NCCL_SOCKET_IFNAME="ib0"), ERR, "'ib0'"),
    (IFN, "NCCL exact =eth", env(dev_node, NCCL_SOCKET_IFNAME="=eth"), ERR, "not the name"),
    (IFN, "NCCL one of two missing", env(dev_node, NCCL_SOCKET_IFNAME="eth0,ens5"), WARN, "'ens5'"),
    (IFN, "NCCL excludes all", env(dev_node, NCCL_SOCKET_IFNAME="^eth,ifb"), ERR, "excludes every"),
    (IFN, "GLOO names ens3", env(dev_node, GLOO_SOCKET_IFNAME="ens3"), ERR, "GLOO_SOCKET_IFNAME='ens3'"),
    (IFN, "GLOO prefix is not enough", env(dev_node, GLOO_SOCKET_IFNAME="eth"), ERR, "'eth'"),
    (IFN, "NCCL prefix eth", env(dev_node, NCCL_SOCKET_IFNAME="eth"), None, None),
    (IFN, "NCCL exact =eth0", env(dev_node, NCCL_SOCKET_IFNAME="=eth0"), None, None),
    (IFN, "NCCL ^docker,lo", env(dev_node, NCCL_SOCKET_IFNAME="^docker,lo"), None, None),
    (IFN, "GLOO eth0,lo", env(dev_node, GLOO_SOCKET_IFNAME="eth0,lo"), None, None),
    (IFN, "IB node ib prefix", env(ib_node, NCCL_SOCKET_IFNAME="ib"), None, None),
    (IFN, "variable set, network not probed", env(h100_host, NCCL_SOCKET_IFNAME="ib0"), None, None),
    (HCA, "mlx5_8", env(ib_node, NCCL_IB_HCA="mlx5_8"), ERR, "TCP sockets"),
    (HCA, "port 2", env(ib_node, NCCL_IB_HCA="=mlx5_0:2"), ERR, "'mlx5_0:2'"),
    (HCA, "one of two", env(ib_node, NCCL_IB_HCA="mlx5_0,mlx5_9"), WARN, "uses the others"),
    (HCA, "excludes all", env(ib_node, NCCL_IB_HCA="^mlx5"), WARN, "excludes every"),
    (HCA, "on the eth0 node", env(dev_node, NCCL_IB_HCA="mlx5"), ERR, "'mlx5'"),
    (HCA, "mlx5 prefix", env(ib_node, NCCL_IB_HCA="mlx5"), None, None),
    (HCA, "exact with ports", env(ib_node, NCCL_IB_HCA="=mlx5_0:1,mlx5_1:1"), None, None),
    (HCA, "^mlx5_3", env(ib_node, NCCL_IB_HCA="^mlx5_3"), None, None),
    (HCA, "unset", ib_node, None, None),
    (GDR, "IB + H100, no module", ib_node, WARN, "nvidia_peermem"),
    (GDR, "module loaded", _peermem, None, None),
    (GDR, "no RDMA (recorded)", dev_node, None, None),
    (GDR, "GDR off on purpose", env(ib_node, NCCL_NET_GDR_LEVEL="LOC"), None, None),
]  # fmt: skip


@pytest.mark.parametrize(
    ("check_id", "what", "build", "severity", "says"),
    CASES,
    ids=lambda x: x if isinstance(x, str) else "",
)
def test_network_check(
    check_id: str, what: str, build: Build, severity: Severity | None, says: str | None
) -> None:
    found = [f for f in run_checks(build()) if f.check_id == check_id]
    if severity is None:
        assert found == [], found[0].message if found else ""
        return
    assert len(found) == 1, [f.message for f in found]
    assert found[0].severity is severity, found[0].message
    assert says is not None and says in found[0].message, found[0].message
    assert found[0].fix and found[0].evidence


def test_a_down_port_named_in_nccl_ib_hca_is_a_warning(tmp_path: Path) -> None:
    facts = _env(ib_node_from(ib_sysfs(tmp_path, down=("mlx5_3",))), NCCL_IB_HCA="=mlx5_3")
    (found,) = [f for f in run_checks(facts) if f.check_id == "EL-NET-IB-HCA-MISSING"]
    assert found.severity is Severity.WARNING and "mlx5_3:1 DOWN" in found.message


def test_fleet_divergence_on_network_facts(tmp_path: Path) -> None:
    """Two IB nodes and one whose mlx5_3 port is down and has no nvidia_peermem: the
    fleet names that node for both fields."""
    good_root = ib_sysfs(tmp_path / "good", peermem=True)
    bad = ib_node_from(ib_sysfs(tmp_path / "bad", down=("mlx5_3",)))
    good = ib_node_from(good_root)
    s = [
        summarize(0, "gpu-node-000", good, [], "full"),
        summarize(1, "gpu-node-001", good, [], "full"),
        summarize(2, "gpu-node-002", bad, [], "full"),
    ]
    found = {f.field: f for f in compare_ranks(s)}
    assert set(found) == {"network.rdma-ports", "network.gpudirect-module"}
    ports = found["network.rdma-ports"]
    assert "mlx5_3:1 DOWN InfiniBand" in ports.evidence["where"].split(";")[1]
    assert "gpu-node-002" in ports.evidence["where"].split(";")[1]
    assert found["network.gpudirect-module"].observed == "nvidia_peermem"
    assert compare_ranks(s[:2]) == []
