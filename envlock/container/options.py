"""What a container probe is asked to do: its target, and Docker's option syntaxes.

`ContainerTarget` is what the probe reads of a target; `envlock.collect.Source` is
one (the options are declared once, there). `--gpus` and `--shm-size` are parsed as
`docker run` parses them, and every option is checked before any request reaches
the daemon. No dataclasses here: `dataclasses` (and `inspect` under it, ~5 ms) would
load before the probe container starts.
"""

from __future__ import annotations

import re
from typing import Protocol

from envlock.errors import UsageError


class ContainerTarget(Protocol):
    """What to probe: a new container of `image`, or the running `container`.

    `gpus` and `shm_size` take `docker run`'s syntax (--gpus all, 0,1,
    device=GPU-...; --shm-size 2g) and apply to `image` only."""

    @property
    def image(self) -> str | None: ...
    @property
    def container(self) -> str | None: ...
    @property
    def gpus(self) -> str | None: ...
    @property
    def shm_size(self) -> str | None: ...
    @property
    def pull(self) -> bool: ...
    @property
    def torch_live(self) -> bool: ...
    @property
    def timeout(self) -> float: ...


class GpuRequest:
    """`docker run --gpus` semantics: a count (-1 = all) or explicit device ids.

    A plain class: `dataclasses` would add ~4 ms before the probe container starts."""

    __slots__ = ("count", "device_ids", "text")

    def __init__(
        self, *, text: str, count: int | None = None, device_ids: tuple[str, ...] = ()
    ) -> None:
        self.text, self.count, self.device_ids = text, count, device_ids

    def __repr__(self) -> str:
        return (
            f"GpuRequest(text={self.text!r}, count={self.count!r}, device_ids={self.device_ids!r})"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, GpuRequest):
            return NotImplemented
        return (self.text, self.count, self.device_ids) == (
            other.text,
            other.count,
            other.device_ids,
        )

    __hash__ = None  # type: ignore[assignment]


def parse_gpus(text: str) -> GpuRequest:
    """Parse `all`, `2`, `count=2`, `0,1`, `device=0,1` (quotes as docker allows)."""
    value = text.strip().strip("'\"").strip()
    if value in ("all", "count=all"):
        return GpuRequest(text=value, count=-1)
    if value.startswith("count="):
        value = value[len("count=") :]
        if not value.isdigit():
            raise UsageError(f"--gpus {text!r}: count must be a number or 'all'")
    if value.isdigit():
        if int(value) < 1:
            raise UsageError(f"--gpus {text!r}: the count must be at least 1")
        return GpuRequest(text=value, count=int(value))
    if value.startswith("device="):
        value = value[len("device=") :].strip("'\"")
    ids = tuple(v.strip() for v in value.split(","))
    if not ids or any(not re.fullmatch(r"[0-9]+|(GPU|MIG)-[0-9A-Za-z-/]+", i) for i in ids):
        raise UsageError(
            f"--gpus {text!r}: expected all, a count, or device ids like 0,1 or device=0,1"
        )
    return GpuRequest(text=f"device={','.join(ids)}", device_ids=ids)


_SIZE_UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def parse_size(text: str) -> int:
    """Docker's size syntax (binary units, like --shm-size): 64m, 2g, 1048576."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([bkmgt]?)b?\s*", text.lower())
    if not m or float(m.group(1)) <= 0:
        raise UsageError(f"--shm-size {text!r}: expected a size like 2g, 512m or 1073741824")
    return int(float(m.group(1)) * _SIZE_UNITS[m.group(2)])


# Docker's container names (and ids): [a-zA-Z0-9][a-zA-Z0-9_.-]*, optionally with a leading /.
_CONTAINER_NAME = re.compile(r"/?[a-zA-Z0-9][a-zA-Z0-9_.-]{0,254}")


# A Docker Hub reference without dots, digest or registry (`python:3.11`,
# `pytorch/pytorch:2.4.0-cuda12.1-cudnn9-runtime`): a subset of envlock.imageref's grammar
# (a fuzz test holds it), read without loading that module's dataclass ahead of the
# probe container's creation (`dataclasses` and `inspect` under it, ~8 ms).
_PLAIN_REFERENCE = re.compile(
    r"[a-z0-9]+(?:[_-][a-z0-9]+)*(?:/[a-z0-9]+(?:[_-][a-z0-9]+)*)*"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?",
    re.ASCII,
)
_HEX64 = re.compile(r"[a-f0-9]{64}")


def plainly_a_reference(text: str) -> bool:
    """Whether `text` is an image reference Docker accepts, by the plain form above;
    False says nothing (envlock.imageref then decides)."""
    return (
        len(text) <= 200  # the name's limit, 255 with `docker.io/library/`, is never reached
        and _PLAIN_REFERENCE.fullmatch(text) is not None
        and _HEX64.fullmatch(text) is None
    )


def check_target(target: ContainerTarget) -> None:
    """UsageError unless `target` names exactly one of image, container, with only the
    options that apply to it. The names go into the Engine API's URL path: they are
    checked before any request (`--image ../../x` once reached another endpoint)."""
    if target.image and target.container:
        raise UsageError("give at most one of --image, --container")
    if target.image:
        if plainly_a_reference(target.image):
            return
        from envlock.imageref import is_image_id, parse_or_none

        if not is_image_id(target.image) and parse_or_none(target.image) is None:
            raise UsageError(f"--image {target.image!r} is not a valid image reference")
        return
    if not target.container:
        raise UsageError("give one of --image, --container")
    for flag, value in (("--gpus", target.gpus), ("--shm-size", target.shm_size)):
        if value:
            raise UsageError(f"{flag} applies to --image only (a running container has its own)")
    if not _CONTAINER_NAME.fullmatch(target.container):
        raise UsageError(f"--container {target.container!r} is not a container name or id")
