"""Kubernetes manifests (one or many `---` documents) as one Plan per container that runs a
workload: every pod spec is found wherever its kind keeps it (Pod `spec`, a Deployment's,
Job's or StatefulSet's `spec.template.spec`, a CronJob's `jobTemplate`, and operators' own
kinds such as Kubeflow's PyTorchJob `pytorchReplicaSpecs.<role>.template.spec`: any mapping
with a `containers` list). Per container: its image, its GPU request (`resources.limits`
`nvidia.com/gpu`, or a MIG resource `nvidia.com/mig-*`; requests count where no limit is
set), `env` values, and /dev/shm where a volume of `emptyDir.medium: Memory` is mounted there
(its `sizeLimit`). Init containers prepare and exit: they are no workload (a note counts
them). Not stated: a /dev/shm without a mount, an env value from `valueFrom`."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from envlock.plan.images import base_image
from envlock.plan.model import EnvVar, GpuRequest, Plan, ReadOptions, Span, Stated
from envlock.plan.yamltree import Tree, load, scalar_text

if TYPE_CHECKING:
    from yaml.nodes import Node

MAX_DEPTH = 16  # how deep a pod spec may sit in a document (an operator's CRD)
MAX_CONTAINERS = 1000
_DETECT_API = re.compile(r"^apiVersion[ \t]*:", re.MULTILINE)
_DETECT_KIND = re.compile(r"^kind[ \t]*:", re.MULTILINE)
_QUANTITY = re.compile(
    r"\s*([0-9]{1,18}(?:\.[0-9]{1,9})?)(?:[eE]([0-9]{1,2}))?([KMGTPE]i|[kMGTPE]|m)?\s*"
)
_SUFFIX = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18}
_SUFFIX.update({f"{p}i": 1 << (10 * (i + 1)) for i, p in enumerate("KMGTPE")})
_STRUCTURE = frozenset({"spec", "template", "jobTemplate"})


def detect(text: str) -> bool:
    """Top-level `apiVersion:` and `kind:` keys, in any document."""
    head = text[: 1 << 20]
    return _DETECT_API.search(head) is not None and _DETECT_KIND.search(head) is not None


def read(text: str, source: str, options: ReadOptions) -> list[Plan]:
    """One Plan per workload container, document by document."""
    del options  # a manifest names images; nothing is built, no other file is read
    tree = load(text, source)
    plans: list[Plan] = []
    for document in _objects(tree):
        kind = tree.text(document, "kind") or "?"
        name = tree.text(document, "metadata", "name") or kind
        for path, pod in _pod_specs(tree, document, (), 0):
            role = [p for p in path if p not in _STRUCTURE]
            prefix = "/".join([name, *role[-1:]])
            plans.extend(_pod(tree, pod, prefix))
            if len(plans) > MAX_CONTAINERS:
                return plans[:MAX_CONTAINERS]
    return plans


def _objects(tree: Tree) -> list[Node]:
    """The documents, a `kind: List`'s items in its place."""
    out: list[Node] = []
    for document in tree.documents:
        items = tree.sequence(tree.get(document, "items"))
        out.extend(items if tree.text(document, "kind") == "List" else [document])
    return out


def _pod_specs(
    tree: Tree, node: Node, path: tuple[str, ...], depth: int
) -> list[tuple[tuple[str, ...], Node]]:
    """Every mapping with a `containers` list below `node`, with its key path."""
    pairs = tree.mapping(node)
    if "containers" in pairs and tree.sequence(pairs["containers"][1]):
        return [(path, node)]
    if depth >= MAX_DEPTH:
        return []
    found: list[tuple[tuple[str, ...], Node]] = []
    for key, (_, value) in pairs.items():
        if key in ("metadata", "status", "volumes", "initContainers"):
            continue
        found.extend(_pod_specs(tree, value, (*path, key), depth + 1))
        for item in tree.sequence(value):  # pod specs in lists (an operator's replicas)
            found.extend(_pod_specs(tree, item, (*path, key), depth + 1))
    return found


def _pod(tree: Tree, pod: Node, prefix: str) -> list[Plan]:
    notes: list[str] = []
    inits = tree.sequence(tree.get(pod, "initContainers"))
    if inits:
        notes.append(f"{prefix}: {len(inits)} init container(s): no workload, not checked")
    memory_volumes = _memory_volumes(tree, pod)
    host_ipc = tree.get(pod, "hostIPC")
    ipc = None
    if host_ipc is not None and scalar_text(host_ipc) in ("true", "True", "yes"):
        ipc = Stated("host", tree.span(host_ipc, tree.key(pod, "hostIPC")))
    plans = []
    for container in tree.sequence(tree.get(pod, "containers")):
        name = tree.text(container, "name") or "?"
        image = tree.get(container, "image")
        image_text = scalar_text(image)
        plans.append(
            Plan(
                kind="kubernetes",
                name=f"{prefix}/{name}",
                sources=(tree.source,),
                base=base_image(image_text, tree.span(image, tree.key(container, "image")))
                if image is not None and image_text
                else None,
                env=tuple(_env(tree, container, notes)),
                gpu_request=_gpu_request(tree, container),
                shm_size_bytes=_shm(tree, container, memory_volumes, notes),
                ipc=ipc,
                notes=tuple(notes),
            )
        )
    return plans


# ---------------------------------------------------------------------- GPUs
def _gpu_request(tree: Tree, container: Node) -> Stated[GpuRequest]:
    resources = tree.get(container, "resources")
    for section in ("limits", "requests"):
        table = tree.get(resources, section)
        for name, (key, value) in tree.mapping(table).items():
            if name != "nvidia.com/gpu" and not name.startswith("nvidia.com/mig-"):
                continue
            count = quantity(scalar_text(value) or "")
            n = int(count) if count is not None and count == int(count) else None
            span = tree.span(value, key)
            if n is None:
                continue
            caps = (name.removeprefix("nvidia.com/"),) if name != "nvidia.com/gpu" else ()
            return Stated(GpuRequest(count=n, source="nvidia.com/gpu", capabilities=caps), span)
    span = tree.span(container)
    first = Span(file=span.file, line=span.line, end_line=span.line, text=span.text.split("\n")[0])
    return Stated(GpuRequest(count=0, source="none"), first)


def quantity(text: str) -> Decimal | None:
    """A Kubernetes quantity (`2`, `80Gi`, `512M`, `1e3`, `500m`) as a number, None if not one."""
    m = _QUANTITY.fullmatch(text)
    if m is None:
        return None
    try:
        number = Decimal(m.group(1))
    except InvalidOperation:
        return None
    if m.group(2):
        number *= Decimal(10) ** int(m.group(2))
    suffix = m.group(3) or ""
    return number / 1000 if suffix == "m" else number * _SUFFIX[suffix]


# ---------------------------------------------------------------------- shm, env
def _memory_volumes(tree: Tree, pod: Node) -> dict[str, tuple[Node | None, Node]]:
    """Volumes of `emptyDir.medium: Memory`: name -> (their sizeLimit, the volume)."""
    out: dict[str, tuple[Node | None, Node]] = {}
    for volume in tree.sequence(tree.get(pod, "volumes")):
        if tree.text(volume, "emptyDir", "medium") == "Memory":
            name = tree.text(volume, "name")
            if name:
                out[name] = (tree.get(volume, "emptyDir", "sizeLimit"), volume)
    return out


def _shm(
    tree: Tree,
    container: Node,
    volumes: dict[str, tuple[Node | None, Node]],
    notes: list[str],
) -> Stated[int] | None:
    for mount in tree.sequence(tree.get(container, "volumeMounts")):
        if tree.text(mount, "mountPath") not in ("/dev/shm", "/dev/shm/"):
            continue
        volume = volumes.get(tree.text(mount, "name") or "")
        if volume is None:
            return None
        limit, node = volume
        if limit is None:
            notes.append(
                f"{tree.span(node).where}: /dev/shm is memory-backed without a sizeLimit: "
                "sized by the node, not by this file"
            )
            return None
        size = quantity(scalar_text(limit) or "")
        if size is None:
            notes.append(f"{tree.span(limit).where}: sizeLimit is not a quantity: not read")
            return None
        return Stated(
            int(size), tree.span(limit, tree.key(tree.get(node, "emptyDir"), "sizeLimit"))
        )
    return None


def _env(tree: Tree, container: Node, notes: list[str]) -> list[EnvVar]:
    out = []
    for item in tree.sequence(tree.get(container, "env")):
        name = tree.text(item, "name")
        value = tree.get(item, "value")
        if not name:
            continue
        if value is None:
            if tree.get(item, "valueFrom") is not None:
                notes.append(f"{tree.span(item).where}: {name} comes from valueFrom: not stated")
            continue
        out.append(EnvVar(name=name, value=scalar_text(value) or "", span=tree.span(item)))
    return out
