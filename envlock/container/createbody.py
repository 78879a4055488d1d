"""The body of POST /containers/create for a probe container (the Engine API's shapes,
as far as envlock sets them), and `--gpus` as the docker CLI sends it."""

from __future__ import annotations

from typing import TypedDict

from envlock.container.options import GpuRequest


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
