"""The body of POST /containers/create for a probe container (the Engine API's shapes,
as far as envlock sets them), and `--gpus` as the docker CLI sends it."""

from __future__ import annotations

from typing import TypedDict

from envlock.container.options import GpuRequest

PROBE_MEMORY = 4 * 1024 * 1024 * 1024


class DeviceRequest(TypedDict):
    """HostConfig.DeviceRequests[] of the Engine API."""

    Driver: str
    Capabilities: list[list[str]]
    Options: dict[str, str]
    Count: int
    DeviceIDs: list[str] | None


class HostConfig(TypedDict, total=False):
    """The part of the Engine API's HostConfig a probe container sets."""

    NetworkMode: str
    CapDrop: list[str]
    SecurityOpt: list[str]
    Memory: int
    MemorySwap: int
    PidsLimit: int
    ReadonlyRootfs: bool
    Tmpfs: dict[str, str]
    ShmSize: int
    DeviceRequests: list[DeviceRequest]


class _Config(TypedDict):
    Image: str
    Cmd: list[str]
    Entrypoint: list[str]
    Labels: dict[str, str]
    HostConfig: HostConfig


class ContainerConfig(_Config, total=False):
    """POST /containers/create's body, as a probe container's."""

    NetworkDisabled: bool
    OpenStdin: bool
    StdinOnce: bool
    AttachStdin: bool
    AttachStdout: bool
    AttachStderr: bool


def device_request(request: GpuRequest) -> DeviceRequest:
    """HostConfig.DeviceRequests entry for `--gpus` (what the docker CLI sends)."""
    if request.device_ids:
        count, ids = 0, list(request.device_ids)
    else:
        count, ids = request.count or -1, None
    return {
        "Driver": "",
        "Capabilities": [["gpu"]],
        "Options": {},
        "Count": count,
        "DeviceIDs": ids,
    }


def probe_config(
    image_id: str,
    argv: list[str],
    *,
    attach: bool,
    shm_bytes: int | None,
    request: GpuRequest | None,
    labels: dict[str, str],
) -> ContainerConfig:
    """A probe container's body: no network, no capabilities, bounded memory and processes,
    a read-only root. `attach`: its stdin stays open until the probe's package is written,
    and its output comes by the attach."""
    host_config: HostConfig = {
        "NetworkMode": "none",
        "CapDrop": ["ALL"],
        "SecurityOpt": ["no-new-privileges"],
        # Bounded: importing a CUDA torch build takes ~1 GiB; the probe writes nothing
        # but Python's own temp files.
        "Memory": PROBE_MEMORY,
        "MemorySwap": PROBE_MEMORY,
        "PidsLimit": 256,
        "ReadonlyRootfs": True,
        "Tmpfs": {"/tmp": "rw,nosuid,nodev,size=64m"},
    }
    if shm_bytes:
        host_config["ShmSize"] = shm_bytes
    if request is not None:
        host_config["DeviceRequests"] = [device_request(request)]
    config: ContainerConfig = {
        "Image": image_id,
        "Cmd": argv,
        "Entrypoint": [],
        "Labels": labels,
        "HostConfig": host_config,
        # No network at all, as NetworkMode "none" says too (a daemon that ignores this
        # still applies it): the runtime's own new network namespace, loopback only,
        # without the daemon's network sandbox for "none", which took ~150 ms of the
        # container's start on the CI's daemon (`docker run --network none` pays it)
        "NetworkDisabled": True,
    }
    if attach:
        config["OpenStdin"] = config["StdinOnce"] = config["AttachStdin"] = True
        config["AttachStdout"] = config["AttachStderr"] = True
    return config
