"""A compose file (docker-compose.yml, compose.yaml) as one Plan per service: its image (or
the Dockerfile its `build:` names, read through envlock.plan.dockerfile with the service's
build args and target), its GPU request (`deploy.resources.reservations.devices`, `gpus:`,
`runtime: nvidia`), `shm_size`, `ipc`, `environment` and `platform`. Compose reference:
docs.docker.com/reference/compose-file/services/ and .../build/.

What a service does not say is not stated: an unset `shm_size` stays None (an overlay file or
the engine's own default may set it), an argument or variable that compose interpolates from
the shell (`${X}`) is not passed on (the Dockerfile's default counts), and a service with no
GPU key at all requests none (count 0: compose starts it without GPUs)."""

from __future__ import annotations

import posixpath
import re
from typing import TYPE_CHECKING

from envlock.plan import dockerfile
from envlock.plan.images import base_image
from envlock.plan.model import (
    EnvVar,
    GpuRequest,
    GpuRequestSource,
    Plan,
    PlanError,
    ReadOptions,
    Span,
    Stated,
)
from envlock.plan.yamltree import Tree, load, scalar, scalar_text

if TYPE_CHECKING:
    from yaml.nodes import Node

MAX_SERVICES = 500
_DETECT = re.compile(r"^services[ \t]*:", re.MULTILINE)
_SIZE = re.compile(r"\s*(\d{1,15})(?:\.(\d{1,6}))?\s*([bkmgt]?)(?:i?b)?\s*", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")


def detect(text: str) -> bool:
    """A top-level `services:` key (Kubernetes and conda files have none)."""
    return _DETECT.search(text[: 1 << 20]) is not None


def read(text: str, source: str, options: ReadOptions) -> list[Plan]:
    """One Plan per service, in file order."""
    tree = load(text, source)
    plans: list[Plan] = []
    for document in tree.documents:
        for name, (key, service) in _services(tree, document)[:MAX_SERVICES]:
            plans.append(_service(tree, name, key, service, options))
    return plans


def _services(tree: Tree, document: Node) -> list[tuple[str, tuple[Node, Node]]]:
    """The `services:` mapping's entries; in the legacy format (compose 1.x: no `services`
    and no `version` key) the top-level entries with an `image` or a `build`."""
    top = tree.mapping(document)
    if "services" in top or "version" in top:
        return list(tree.mapping(tree.get(document, "services")).items())
    return [
        (name, pair)
        for name, pair in top.items()
        if not name.startswith("x-") and {"image", "build"} & set(tree.mapping(pair[1]))
    ]


def _service(tree: Tree, name: str, key: Node, service: Node, options: ReadOptions) -> Plan:
    notes: list[str] = []
    header = tree.span(key)
    built = _built(tree, service, options, notes)
    image = tree.get(service, "image")
    base = built.base if built is not None else None
    image_text = scalar_text(image)
    # with `build:`, `image:` names what the build produces, not what it starts from
    if tree.get(service, "build") is None and image is not None and image_text:
        base = base_image(image_text, tree.span(image, tree.key(service, "image")))
    for k in ("env_file", "extends"):
        if tree.get(service, k) is not None:
            notes.append(f"{header.where}: service {name}: `{k}` is not followed")
    return Plan(
        kind="compose",
        name=name,
        sources=(tree.source, *(built.sources if built is not None else ())),
        base=base,
        env=(*(built.env if built is not None else ()), *_environment(tree, service)),
        installs=built.installs if built is not None else (),
        gpu_request=_gpu_request(tree, service, header),
        shm_size_bytes=_shm(tree, service, notes),
        ipc=_stated_text(tree, service, "ipc"),
        build_target=built.build_target if built is not None else None,
        platform=tree.text(service, "platform") or (built.platform if built else None),
        notes=(*(built.notes if built is not None else ()), *notes),
    )


def _stated_text(tree: Tree, node: Node, name: str) -> Stated[str] | None:
    value = tree.get(node, name)
    text = scalar_text(value)
    if value is None or text is None:
        return None
    return Stated(text, tree.span(value, tree.key(node, name)))


# ---------------------------------------------------------------------- build:
def _built(tree: Tree, service: Node, options: ReadOptions, notes: list[str]) -> Plan | None:
    """The plan of the Dockerfile a service's `build:` names, None without one or when the
    file cannot be read here (a note says which)."""
    build = tree.get(service, "build")
    if build is None:
        return None
    where = tree.span(build, tree.key(service, "build")).where
    context = scalar_text(build) if scalar(build) is not None else tree.text(build, "context")
    context = context or "."
    inline = tree.text(build, "dockerfile_inline")
    name = tree.text(build, "dockerfile") or "Dockerfile"
    if re.match(r"[a-z][a-z0-9+.-]*://|git@", context):
        notes.append(f"{where}: build context {context} is remote: its Dockerfile is not read")
        return None
    path = name if posixpath.isabs(name) else posixpath.normpath(posixpath.join(context, name))
    text = inline
    if text is None:
        text = options.read_beside(tree.source, path) if options.read_beside else None
        if text is None:
            notes.append(f"{where}: {path}: not found beside the compose file: not read")
            return None
    shown = f"{tree.source}:dockerfile_inline" if inline is not None else _beside(tree.source, path)
    args = {**_build_args(tree, build, notes), **options.build_args}
    target = options.target or tree.text(build, "target")
    inner = ReadOptions(build_args=args, target=target, read_beside=options.read_beside)
    try:
        return dockerfile.read(text, shown, inner)[0]
    except PlanError as e:  # one service's Dockerfile, not the whole compose file
        notes.append(f"{where}: {e}")
        return None


def _beside(source: str, path: str) -> str:
    if posixpath.isabs(path):
        return path
    return posixpath.normpath(posixpath.join(posixpath.dirname(source), path))


def _build_args(tree: Tree, build: Node, notes: list[str]) -> dict[str, str]:
    """`build.args` as a list of NAME=VALUE or a mapping; values compose would take from
    the shell (`${X}`, a bare NAME) are left out: the Dockerfile's ARG default counts."""
    node = tree.get(build, "args")
    out: dict[str, str] = {}
    items: list[tuple[str, str | None, Node]] = []
    for item in tree.sequence(node):
        name, eq, written = (scalar_text(item) or "").partition("=")
        items.append((name.strip(), written if eq else None, item))
    for name, (_, value_node) in tree.mapping(node).items():
        items.append((name, scalar_text(value_node), value_node))
    for name, value, item in items:
        if not name:
            continue
        if value is None or "$" in value:
            notes.append(
                f"{tree.span(item).where}: build arg {name} comes from the shell's environment:"
                " not stated (the Dockerfile's default counts)"
            )
            continue
        out[name] = value
    return out


# ---------------------------------------------------------------------- GPUs
def _gpu_request(tree: Tree, service: Node, header: Span) -> Stated[GpuRequest]:
    devices_key = tree.get(service, "deploy", "resources", "reservations")
    devices = tree.get(devices_key, "devices")
    if devices is not None:
        request = _devices(tree, tree.sequence(devices), "deploy.resources.reservations.devices")
        if request is not None:
            return Stated(request, tree.span(devices, tree.key(devices_key, "devices")))
    gpus = tree.get(service, "gpus")
    if gpus is not None:
        span = tree.span(gpus, tree.key(service, "gpus"))
        if scalar_text(gpus) == "all":
            return Stated(GpuRequest(count=None, source="gpus"), span)
        request = _devices(tree, tree.sequence(gpus), "gpus", gpu_list=True)
        if request is not None:
            return Stated(request, span)
    runtime = tree.get(service, "runtime")
    if runtime is not None and scalar_text(runtime) == "nvidia":
        span = tree.span(runtime, tree.key(service, "runtime"))
        return Stated(GpuRequest(count=None, source="runtime: nvidia"), span)
    return Stated(GpuRequest(count=0, source="none"), header)


def _devices(
    tree: Tree, entries: list[Node], source: GpuRequestSource, *, gpu_list: bool = False
) -> GpuRequest | None:
    """The GPUs a device list reserves: entries with the `gpu` capability or the nvidia
    driver (every entry of a `gpus:` list); an entry without count or device_ids takes
    all of them. None: no entry asks for a GPU."""
    count: int | None = 0
    ids: list[str] = []
    caps: list[str] = []
    found = False
    for entry in entries:
        entry_caps = [
            c for c in (scalar_text(n) for n in tree.sequence(tree.get(entry, "capabilities"))) if c
        ]
        if not (gpu_list or "gpu" in entry_caps or tree.text(entry, "driver") == "nvidia"):
            continue
        found = True
        caps.extend(entry_caps)
        entry_ids = [
            i for i in (scalar_text(n) for n in tree.sequence(tree.get(entry, "device_ids"))) if i
        ]
        n = _count(tree.text(entry, "count"))
        if entry_ids:
            ids.extend(entry_ids)
            n = len(entry_ids)
        count = None if count is None or n is None else count + n
    if not found:
        return None
    return GpuRequest(
        count=count, source=source, device_ids=tuple(ids), capabilities=tuple(dict.fromkeys(caps))
    )


def _count(text: str | None) -> int | None:
    """A device count: a number, or None for `all`, `-1` and no count at all."""
    if text is None or not text.strip().isdigit() or len(text.strip()) > 6:
        return None
    return int(text)


# ---------------------------------------------------------------------- shm, env
def _shm(tree: Tree, service: Node, notes: list[str]) -> Stated[int] | None:
    node = tree.get(service, "shm_size")
    if node is None or scalar(node) is None:
        return None
    span = tree.span(node, tree.key(service, "shm_size"))
    size = parse_size(str(scalar_text(node)))
    if size is None:
        notes.append(f"{span.where}: shm_size {scalar_text(node)!r} is not a size: not read")
        return None
    return Stated(size, span)


def parse_size(text: str) -> int | None:
    """Docker's byte sizes: `67108864`, `64m`, `8gb`, `1.5g` (units of 1024), None if not one."""
    m = _SIZE.fullmatch(text)
    if m is None:
        return None
    whole, frac, unit = m.group(1), m.group(2) or "", m.group(3).lower()
    scale = _UNITS[unit]
    return (
        int(whole) * scale + (int(frac) * scale) // (10 ** len(frac))
        if frac
        else int(whole) * scale
    )


def _environment(tree: Tree, service: Node) -> list[EnvVar]:
    """`environment:` as a list of NAME=VALUE or a mapping; a NAME without a value is taken
    from the shell when compose runs: not stated."""
    node = tree.get(service, "environment")
    out: list[EnvVar] = []
    for item in tree.sequence(node):
        name, eq, written = (scalar_text(item) or "").partition("=")
        if eq and _ENV_NAME.fullmatch(name):
            out.append(EnvVar(name=name, value=written, span=tree.span(item)))
    for name, (key, value_node) in tree.mapping(node).items():
        value = scalar_text(value_node)
        if value is not None and _ENV_NAME.fullmatch(name):
            out.append(EnvVar(name=name, value=value, span=tree.span(value_node, key)))
    return out
