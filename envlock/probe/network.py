"""The `network` section: what a multi-node job's communication depends on.

Network interfaces (/sys/class/net: name, state, physical or virtual), InfiniBand/RoCE
devices and their ports (/sys/class/infiniband/DEV/ports/N/{state,link_layer}), and the
GPUDirect RDMA module (nvidia_peermem, or the older nv_peer_mem) from /sys/module or
/proc/modules. Read-only sysfs/procfs reads, no subprocess; an unreadable tree is
`unavailable`, not an error. No MAC or IP addresses are recorded.
"""

from __future__ import annotations

import os

from envlock.probe._util import read_text

# typing is not imported at run time (~3 ms of every container probe).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from envlock.probe.shapes import IbDeviceDoc, IbPortDoc, NetInterfaceDoc, NetworkDoc

# GPUDirect RDMA kernel modules, newest first: nvidia_peermem ships with the driver
# since R470; nv_peer_mem is Mellanox's older out-of-tree module.
GPUDIRECT_MODULES = ("nvidia_peermem", "nv_peer_mem")
# A node with more entries than this is not a real node's /sys (bounded work).
_MAX_ENTRIES = 4096


def collect(sys_root: str = "/sys", proc_root: str = "/proc") -> NetworkDoc:
    net = os.path.join(sys_root, "class", "net")
    try:
        names = sorted(os.listdir(net))[:_MAX_ENTRIES]
    except OSError as exc:
        return {"unavailable": f"cannot list {net}: {exc.strerror or type(exc).__name__}"}
    return {
        "unavailable": None,
        "interfaces": [_interface(net, name) for name in names],
        "ib_devices": _ib_devices(os.path.join(sys_root, "class", "infiniband")),
        "gpudirect_module": gpudirect_module(sys_root, proc_root),
    }


def _interface(net: str, name: str) -> NetInterfaceDoc:
    path = os.path.join(net, name)
    state = read_text(os.path.join(path, "operstate"), 64)
    kind = read_text(os.path.join(path, "type"), 64)
    return {
        "name": name,
        "operstate": state.strip() if state else None,
        # ARPHRD_*: 1 Ethernet, 32 InfiniBand (IPoIB), 772 loopback
        "arp_type": int(kind)
        if kind and kind.strip().isascii() and kind.strip().isdigit()
        else None,
        # a physical interface has a device behind it; veth, bridges, lo have none
        "physical": os.path.exists(os.path.join(path, "device")),
    }


def _ib_devices(root: str) -> list[IbDeviceDoc]:
    try:
        names = sorted(os.listdir(root))[:_MAX_ENTRIES]
    except OSError:
        return []  # no RDMA devices (or no rdma core): an observed absence
    devices: list[IbDeviceDoc] = []
    for name in names:
        ports_dir = os.path.join(root, name, "ports")
        try:
            port_names = sorted(os.listdir(ports_dir), key=_port_order)[:_MAX_ENTRIES]
        except OSError:
            port_names = []
        ports: list[IbPortDoc] = []
        for port in port_names:
            if not (port.isascii() and port.isdigit()):
                continue
            state = read_text(os.path.join(ports_dir, port, "state"), 64)
            layer = read_text(os.path.join(ports_dir, port, "link_layer"), 64)
            ports.append(
                {
                    "port": int(port),
                    "state": parse_port_state(state),
                    "link_layer": layer.strip() if layer else None,  # InfiniBand, Ethernet (RoCE)
                }
            )
        devices.append({"name": name, "ports": ports})
    return devices


def _port_order(name: str) -> tuple[int, str]:
    return (int(name), "") if name.isascii() and name.isdigit() else (1 << 30, name)


def parse_port_state(text: str | None) -> str | None:
    """sysfs writes `4: ACTIVE`; the name is kept (DOWN, INIT, ARMED, ACTIVE, ACTIVE_DEFER)."""
    if not text:
        return None
    return text.strip().partition(":")[2].strip() or text.strip()


def gpudirect_module(sys_root: str = "/sys", proc_root: str = "/proc") -> str | None:
    """The loaded GPUDirect RDMA module's name, or None when neither is loaded."""
    modules = read_text(os.path.join(proc_root, "modules")) or ""
    loaded = {line.split(" ", 1)[0] for line in modules.splitlines()}
    for name in GPUDIRECT_MODULES:
        if name in loaded or os.path.isdir(os.path.join(sys_root, "module", name)):
            return name
    return None
