"""The doctor's findings on a plan's facts, held to the plan: only the checks a plan can
decide (PLAN_CHECKS), each finding named by the file:line that states its fact, its fix
the replacement text of that instruction where the matrix gives one. A finding about a
fact the plan does not state (a GPU request a Dockerfile cannot make) is left out."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from envlock.facts import Facts
from envlock.findings import Finding
from envlock.matrix import Matrix
from envlock.plan.fixes import (
    base_replacement,
    family_replacement,
    stray_wheels,
    torch_replacement,
    wheels_replacement,
)
from envlock.plan.model import Replacement, Span
from envlock.plan.tofacts import IMPLIED, PlanFacts, torch_wheel_major

_TORCH = ("torch",)
# check ID -> the plan facts it judges, in the order their statement is looked for
PLAN_CHECKS: dict[str, tuple[str, ...]] = {
    "EL-DRIVER-TOO-OLD": _TORCH,
    "EL-DRIVER-MINOR-COMPAT": _TORCH,
    "EL-ARCH-UNSUPPORTED": _TORCH,
    "EL-ARCH-PTX-ONLY": _TORCH,
    "EL-GPU-UNSERVABLE": _TORCH,
    "EL-CUDNN-GPU-UNSUPPORTED": _TORCH,
    "EL-CUDNN-INCOMPATIBLE": _TORCH,
    "EL-TORCH-CPU-ONLY": _TORCH,
    "EL-IMAGE-REQUIRE-CUDA": ("base",),
    "EL-IMAGE-LATEST-TAG": ("base",),
    "EL-FAMILY-MISMATCH": (
        "package:torchvision",
        "package:torchaudio",
        "package:torchtext",
        "torch",
    ),
    "EL-WHEELS-MIXED-CUDA": ("package:nvidia-",),
    "EL-CONTAINER-NO-GPU": ("gpu_request",),
    "EL-SHM-SMALL": ("shm", "gpu_request"),
    "EL-LD-LIBRARY-PATH-SHADOW": ("env:LD_LIBRARY_PATH",),
    "EL-VISIBLE-DEVICES-INVALID": ("env:CUDA_VISIBLE_DEVICES", "env:NVIDIA_VISIBLE_DEVICES"),
    "EL-NET-IFNAME-MISSING": ("env:NCCL_SOCKET_IFNAME",),
    "EL-NET-IB-HCA-MISSING": ("env:NCCL_IB_HCA",),
}
# checks whose fix is a new torch build, and those whose fix is another base image
_TORCH_FIXED = frozenset(k for k, v in PLAN_CHECKS.items() if v == _TORCH)
_BASE_FIXED = frozenset({"EL-IMAGE-REQUIRE-CUDA"})

# (replacement) -> whether the plan, with it applied, no longer has the finding and has no
# new error: the use case re-reads the patched file and re-runs the checks
Recheck = Callable[[str, Replacement], bool]


@dataclass(frozen=True, slots=True, kw_only=True)
class Located:
    finding: Finding
    span: Span | None
    replacement: Replacement | None = None
    fix: str | None = None  # the fix in the plan file's own terms, where it has them
    note: str | None = None  # appended to the message: another line the finding involves


# what to write in a compose file or a Kubernetes manifest, for the findings about how a
# container is run (the checks' own fixes speak of `docker run`)
_RUNTIME_FIXES: dict[tuple[str, str], str] = {
    ("compose", "EL-CONTAINER-NO-GPU"): (
        "give the service GPUs: deploy.resources.reservations.devices: "
        "[{driver: nvidia, count: all, capabilities: [gpu]}]"
    ),
    ("kubernetes", "EL-CONTAINER-NO-GPU"): (
        "request GPUs for the container: resources.limits: nvidia.com/gpu: 1 (or more)"
    ),
    ("compose", "EL-SHM-SMALL"): "set shm_size: 16gb on the service (or ipc: host)",
    ("kubernetes", "EL-SHM-SMALL"): (
        "mount an emptyDir with medium: Memory (sizeLimit: 16Gi) at /dev/shm in the container"
    ),
}


def locate(pf: PlanFacts, findings: list[Finding]) -> list[Located]:
    """The plan's findings, each with the span that states its fact."""
    out = []
    for finding in findings:
        roles = PLAN_CHECKS.get(finding.check_id)
        if roles is None:
            continue  # about the host, or a fact no plan states
        if finding.check_id == "EL-CONTAINER-NO-GPU" and pf.plan.gpu_request is None:
            continue  # the plan does not say how it is run: not "no GPUs"
        if finding.check_id == "EL-VISIBLE-DEVICES-INVALID" and _within_request(pf):
            continue  # the container numbers the GPUs it is given, not the host's
        span, note = _span(pf, roles), None
        if finding.check_id == "EL-WHEELS-MIXED-CUDA":
            span, note = _stray_span(pf)
        if span is None:
            continue  # its fact is not one the plan states (an image it does not name)
        fix = _RUNTIME_FIXES.get((pf.plan.kind, finding.check_id))
        out.append(Located(finding=finding, span=span, fix=fix, note=note))
    return out


def _stray_span(pf: PlanFacts) -> tuple[Span | None, str | None]:
    """The first pinned wheel of another CUDA major than torch's, and the torch line that
    pulls torch's own wheels in (None: the wheels are all the plan's own pins)."""
    strays = stray_wheels(pf)
    span = strays[0][1] if strays else _span(pf, ("package:nvidia-",))
    torch = pf.torch
    if torch is None or not any(k.startswith(IMPLIED) for k in pf.origins):
        return span, None
    return span, (
        f"torch {torch.version}+{torch.variant} ({torch.span.where}) pulls in its own "
        f"CUDA {torch_wheel_major(torch)} wheels"
    )


def _within_request(pf: PlanFacts) -> bool:
    """CUDA_VISIBLE_DEVICES names only indices below the count of GPUs the plan requests."""
    request = pf.plan.gpu_request.value if pf.plan.gpu_request else None
    var = pf.plan.env_value("CUDA_VISIBLE_DEVICES")
    if request is None or request.count is None or var is None:
        return False
    items = [v.strip() for v in var.value.split(",") if v.strip()]
    return all(i.isdigit() and int(i) < request.count for i in items)


def _span(pf: PlanFacts, roles: tuple[str, ...]) -> Span | None:
    for role in roles:
        if role.endswith("-"):  # a prefix: the first package of that family
            for key, span in pf.origins.items():
                if key.startswith(role):
                    return span
        elif role in pf.origins:
            return pf.origins[role]
    return None


def with_replacements(
    pf: PlanFacts,
    located: list[Located],
    host: Facts | None,
    matrix: Matrix,
    recheck: Recheck | None,
) -> list[Located]:
    """Each finding with the replacement text that the re-check confirms, where one is."""
    cache: dict[str, Replacement | None] = {}
    out = []
    for item in located:
        replacement = _replacement(pf, item.finding.check_id, host, matrix, cache)
        if replacement is not None and recheck is not None:
            replacement = replacement if recheck(item.finding.check_id, replacement) else None
        out.append(dataclasses.replace(item, replacement=replacement))
    return out


def _replacement(
    pf: PlanFacts,
    check_id: str,
    host: Facts | None,
    matrix: Matrix,
    cache: dict[str, Replacement | None],
) -> Replacement | None:
    if check_id in _TORCH_FIXED:
        key = "torch"
        if key not in cache:
            cache[key] = torch_replacement(pf, host, matrix)
        return cache[key]
    if check_id == "EL-FAMILY-MISMATCH":
        return family_replacement(pf)
    if check_id == "EL-WHEELS-MIXED-CUDA":
        return wheels_replacement(pf)
    if check_id in _BASE_FIXED:
        if "base" not in cache:
            cache["base"] = base_replacement(pf, host, matrix)
        return cache["base"]
    return None


def plan_finding(item: Located, plan_label: str | None) -> Finding:
    """The finding as the plan report shows it: where first, the replacement as its fix."""
    f = item.finding
    where = item.span.where if item.span is not None else None
    prefix = "".join(
        part for part in (f"[{plan_label}] " if plan_label else "", f"{where}: " if where else "")
    )
    evidence = dict(f.evidence)
    if item.span is not None:
        evidence["plan.file"] = item.span.file
        evidence["plan.line"] = item.span.line
        evidence["plan.end_line"] = item.span.end_line
    fix = item.fix or f.fix
    if item.replacement is not None:
        evidence["plan.replacement"] = item.replacement.text
        fix = f"replace {item.replacement.span.where} with:\n{item.replacement.text}"
    message = prefix + f.message + (f"; {item.note}" if item.note else "")
    return dataclasses.replace(f, message=message, fix=fix, evidence=evidence)
