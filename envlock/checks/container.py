"""Checks that concern containers: GPU devices, the image's NVIDIA_REQUIRE_CUDA, /dev/shm,
and the image itself (pinning, user, GPU request, probe depth).

They read the container's facts and, where given, the host's (driver, GPUs);
the image checks read only what Docker said about the image (Facts.image).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from envlock.checks.context import CheckContext, basename
from envlock.checks.registry import check
from envlock.facts import ImageFacts
from envlock.findings import Finding, Severity
from envlock.imageref import digest_of, is_image_id, parse_or_none
from envlock.matrix import Version

SHM_MIN_BYTES = 1 << 30  # Docker's default is 64 MiB; DataLoader workers and NCCL need more
_CONDITION = re.compile(r"^([a-z]+)\s*(>=|<=|==|!=|>|<|=)\s*(\S+)$")


@check("EL-CONTAINER-NO-GPU")
def container_no_gpu(ctx: CheckContext) -> Iterator[Finding]:
    if not ctx.in_container or _has_gpu_nodes(ctx):
        return
    if ctx.facts.image is None and ctx.facts.driver.source == "pasted":
        return  # a paste never lists /dev/nvidia* (a plan's facts, with their image, do)
    image = ctx.facts.image
    if image is not None and image.gpu_request_error:
        return  # EL-GPU-REQUEST-FAILED reports it, with the daemon's own error
    visible = ctx.env("NVIDIA_VISIBLE_DEVICES")
    reasons = _gpu_expected_because(ctx, image, visible)
    if not reasons:
        return
    yield Finding(
        check_id="EL-CONTAINER-NO-GPU",
        severity=Severity.ERROR,
        message=(
            "no /dev/nvidia* GPU devices inside the container ("
            + "; ".join(reasons)
            + "): torch.cuda.is_available() is False, nvidia-smi is missing"
        ),
        fix="start the container with GPUs: docker run --gpus all ... "
        "(Kubernetes: resources.limits nvidia.com/gpu)",
        evidence=_no_gpu_evidence(ctx, image, visible),
    )


def _has_gpu_nodes(ctx: CheckContext) -> bool:
    """A /dev/nvidiaN node: the container was given a GPU."""
    nodes = {basename(n) for n in ctx.facts.driver.device_nodes}
    return any(n.removeprefix("nvidia").isdigit() for n in nodes)


def _gpu_expected_because(
    ctx: CheckContext, image: ImageFacts | None, visible: str | None
) -> list[str]:
    """Why this container should have had GPUs; empty: nothing says it should."""
    reasons = []
    if image is not None and image.gpus_requested:
        reasons.append(f"GPUs were requested ({image.gpus_requested})")
    if ctx.torch_cuda is not None:
        reasons.append(f"torch is a CUDA {ctx.torch_cuda} build")
    if ctx.host is not None and ctx.host.driver.gpus:
        reasons.append(f"the host has {len(ctx.host.driver.gpus)} GPU(s)")
    if visible not in (None, "", "void", "none"):
        reasons.append(f"the image sets NVIDIA_VISIBLE_DEVICES={visible}")
    return reasons


def _no_gpu_evidence(
    ctx: CheckContext, image: ImageFacts | None, visible: str | None
) -> dict[str, object]:
    container = ctx.facts.system.container
    evidence: dict[str, object] = {
        "driver.device_nodes": ctx.facts.driver.device_nodes,
        "env.NVIDIA_VISIBLE_DEVICES": visible,
        "torch.cuda": ctx.facts.torch.cuda,
        "system.container.runtime": container.runtime if container else None,
    }
    if image:
        evidence["image.gpus_requested"] = image.gpus_requested
    if ctx.host:
        evidence["host.driver.gpus"] = len(ctx.host.driver.gpus or [])
    return evidence


def require_satisfied(
    expr: str,
    *,
    cuda: Version | None,
    driver: Version | None,
    brands: set[str],
) -> bool | None:
    """Evaluate NVIDIA_REQUIRE_* the way nvidia-container-cli does: space-separated
    groups are ORed, comma-separated conditions ANDed. None: a needed fact is missing."""
    results: list[bool | None] = []
    for group in expr.split():
        results.append(_group(group, cuda=cuda, driver=driver, brands=brands))
    if any(r is True for r in results):
        return True
    if results and all(r is False for r in results):
        return False
    return None


def _group(
    group: str, *, cuda: Version | None, driver: Version | None, brands: set[str]
) -> bool | None:
    outcome: bool | None = True
    for cond in group.split(","):
        m = _CONDITION.match(cond.strip().lower())
        if m is None:
            return None
        key, op, value = m.groups()
        if key == "brand":
            if not brands:
                outcome = None
                continue
            hit = value in brands
            ok = hit if op in ("=", "==") else (not hit if op == "!=" else None)
        elif key in ("cuda", "driver"):
            have = cuda if key == "cuda" else driver
            want = Version.of(value)
            if have is None or want is None:
                outcome = None
                continue
            ok = _compare(have, op, want)
        else:
            ok = None  # arch and unknown keys: cannot judge from facts
        if ok is False:
            return False
        if ok is None:
            outcome = None
    return outcome


def _compare(a: Version, op: str, b: Version) -> bool:
    # Compare at the precision of the requirement: driver>=470 admits 470.82.01.
    a = a.truncate(len(b.parts)) if op in ("<", "<=", "=", "==", "!=") else a
    return {
        ">=": a >= b,
        "<=": a <= b,
        ">": a > b,
        "<": a < b,
        "=": a == b,
        "==": a == b,
        "!=": a != b,
    }[op]


@check("EL-IMAGE-REQUIRE-CUDA")
def image_require_cuda(ctx: CheckContext) -> Iterator[Finding]:
    expr = ctx.env("NVIDIA_REQUIRE_CUDA")
    disabled = (ctx.env("NVIDIA_DISABLE_REQUIRE") or "").lower() in ("1", "true", "yes")
    if not expr or disabled:
        return
    brands = {(g.brand or "").replace("_", "").lower() for g in ctx.gpus() if g.brand}
    ok = require_satisfied(expr, cuda=ctx.driver_cuda, driver=ctx.driver_version, brands=brands)
    if ok is not False:
        return
    needed = re.search(r"cuda>=(\S+?)(?:[\s,]|$)", expr)
    yield Finding(
        check_id="EL-IMAGE-REQUIRE-CUDA",
        severity=Severity.ERROR,
        message=(
            f"the image requires {expr.split()[0]} but the host driver "
            f"{ctx.driver.version or '?'} supports CUDA {ctx.driver.cuda_version or '?'}: "
            "`docker run --gpus` fails with 'nvidia-container-cli: requirement error: "
            "unsatisfied condition'"
        ),
        fix=(
            f"upgrade the host driver to one supporting CUDA {needed.group(1)}"
            if needed
            else "upgrade the host driver"
        )
        + ", or use an image built for the host's CUDA (NVIDIA_DISABLE_REQUIRE=1 only hides "
        "the check; the CUDA runtime will then fail)",
        evidence={
            "env.NVIDIA_REQUIRE_CUDA": expr,
            "host.driver.version": ctx.driver.version,
            "host.driver.cuda_version": ctx.driver.cuda_version,
            "gpu.brands": sorted(brands),
        },
    )


@check("EL-SHM-SMALL")
def shm_small(ctx: CheckContext) -> Iterator[Finding]:
    """A small /dev/shm measured, or NCCL's own report (a pasted log: system.shm_failure)
    that its segment could not be made there, where nothing measured /dev/shm large."""
    if not ctx.in_container:
        return
    size = ctx.facts.system.shm_total_bytes
    if size is None and ctx.facts.image is not None:
        size = ctx.facts.image.shm_size_bytes
    seen = ctx.facts.system.shm_failure if size is None else None
    if seen is None and (size is None or size >= SHM_MIN_BYTES):
        return
    gpus = len(ctx.gpus())
    yield Finding(
        check_id="EL-SHM-SMALL",
        severity=Severity.WARNING,
        message=_shm_message(size, seen, gpus),
        fix="start the container with --shm-size=16g (or --ipc=host); Kubernetes: mount an "
        "emptyDir with medium: Memory at /dev/shm",
        evidence={
            "system.shm_total_bytes": ctx.facts.system.shm_total_bytes,
            "image.shm_size_bytes": ctx.facts.image.shm_size_bytes if ctx.facts.image else None,
            "system.shm_failure": seen,
            "threshold_bytes": SHM_MIN_BYTES,
            "gpus": gpus,
        },
    )


def _shm_message(size: int | None, seen: str | None, gpus: int) -> str:
    if seen is not None:
        return (
            f"NCCL found no room for its shared-memory segment in /dev/shm ('{seen}') inside "
            "a container, whose /dev/shm is the runtime's own small tmpfs (Docker's default: "
            "64 MiB) unless it is started with more: NCCL fails with 'unhandled system error'"
        )
    return (
        f"/dev/shm is {(size or 0) / (1 << 20):.0f} MiB: DataLoader workers die with "
        "'Bus error'" + (" and NCCL fails creating shared-memory segments" if gpus > 1 else "")
    )


# ------------------------------------------------------------------ the image itself
GPU_DRIVER_ERROR = "could not select device driver"
ROOT_USERS = frozenset({"", "root", "0"})


def _image(ctx: CheckContext) -> ImageFacts | None:
    return ctx.facts.image


@check("EL-IMAGE-LATEST-TAG")
def image_latest_tag(ctx: CheckContext) -> Iterator[Finding]:
    img = _image(ctx)
    if img is None or img.kind != "image" or is_image_id(img.reference):
        return
    ref = parse_or_none(img.reference)
    if ref is None or ref.digest is not None or ref.effective_tag != "latest":
        return
    explicit = ref.tag is not None
    yield Finding(
        check_id="EL-IMAGE-LATEST-TAG",
        severity=Severity.WARNING,
        message=(
            f"image {img.reference} is referenced by "
            f"{'the tag' if explicit else 'no tag, i.e. the implicit tag'} 'latest', "
            "which moves whenever a new image is pushed: the next run may get other content"
        ),
        fix=(
            "reference the image by a version tag and digest "
            f"(e.g. {ref.familiar_name}:2.7-cuda12.8@sha256:...), and lock it"
        ),
        evidence={"image.reference": img.reference, "image.tags": img.tags},
    )


@check("EL-IMAGE-NO-DIGEST")
def image_no_digest(ctx: CheckContext) -> Iterator[Finding]:
    img = _image(ctx)
    if img is None or img.kind != "image" or is_image_id(img.reference):
        return
    if digest_of(img.reference, img.repo_digests) is not None:
        return
    ref = parse_or_none(img.reference)
    other = (
        f" (only digests of other repositories: {', '.join(img.repo_digests)})"
        if img.repo_digests
        else ""
    )
    yield Finding(
        check_id="EL-IMAGE-NO-DIGEST",
        severity=Severity.WARNING,
        message=(
            f"image {img.reference} has no registry digest for "
            f"{ref.familiar_name if ref else img.reference}"
            f"{other}: built, imported or tagged on this machine, never pushed or pulled "
            "under that name, so the lock can pin only its local id, which other machines "
            "cannot pull and a rebuild changes"
        ),
        fix="push the image to a registry and reference it by digest (name@sha256:...)",
        evidence={
            "image.reference": img.reference,
            "image.id": img.id,
            "image.repo_digests": img.repo_digests,
        },
    )


@check("EL-IMAGE-ROOT-USER")
def image_root_user(ctx: CheckContext) -> Iterator[Finding]:
    img = _image(ctx)
    if img is None:
        return
    user = (img.user or "").split(":", 1)[0]
    if user not in ROOT_USERS:
        return
    yield Finding(
        check_id="EL-IMAGE-ROOT-USER",
        severity=Severity.INFO,
        message=(
            f"{img.kind} {img.reference} runs as root"
            + ("" if img.user else " (no USER set)")
            + ": files it writes to mounted volumes (checkpoints, caches) belong to root"
        ),
        fix="add `USER <uid>` to the Dockerfile, or start it with --user $(id -u):$(id -g)",
        evidence={"image.user": img.user},
    )


@check("EL-GPU-REQUEST-FAILED")
def gpu_request_failed(ctx: CheckContext) -> Iterator[Finding]:
    img = _image(ctx)
    if img is None or not img.gpu_request_error:
        return
    toolkit_missing = GPU_DRIVER_ERROR in img.gpu_request_error
    yield Finding(
        check_id="EL-GPU-REQUEST-FAILED",
        severity=Severity.ERROR,
        message=(
            f"--gpus {img.gpus_requested} failed: {img.gpu_request_error}"
            + (
                " — the Docker daemon has no NVIDIA runtime (NVIDIA Container Toolkit missing "
                "or not configured): containers started with --gpus will not start, and "
                "without --gpus torch sees no GPU"
                if toolkit_missing
                else ""
            )
            + "; the image was probed without GPUs"
        ),
        fix=(
            "install the NVIDIA Container Toolkit (package nvidia-container-toolkit), then "
            "`sudo nvidia-ctk runtime configure --runtime=docker && sudo systemctl restart docker`"
            if toolkit_missing
            else "check `docker run --rm --gpus all IMAGE nvidia-smi` and the daemon's log"
        ),
        evidence={
            "image.gpus_requested": img.gpus_requested,
            "image.gpu_request_error": img.gpu_request_error,
        },
    )


@check("EL-IMAGE-PARTIAL-PROBE")
def image_partial_probe(ctx: CheckContext) -> Iterator[Finding]:
    img = _image(ctx)
    if img is None or img.probe_mode != "shell":
        return
    why = next((n for n in ctx.facts.meta.notes if "shell fallback" in n), "no python3")
    py = ctx.facts.system.python
    found = py is not None and "python3 is there" in why
    if py is not None and found:  # say what was found: which python3, which version
        why = why.replace(
            "python3 is there",
            f"python3 ({py.executable or 'python3'}, Python {py.version}) is there",
        )
    yield Finding(
        check_id="EL-IMAGE-PARTIAL-PROBE",
        severity=Severity.WARNING,
        message=(
            f"{img.kind} {img.reference}: {why}; torch, cuDNN, NCCL and NVML facts are "
            "missing, so checks that need them did not run"
        ),
        fix=(
            "give the image a complete Python standard library (Debian's python3, not "
            "python3-minimal), or probe the image the training job actually runs"
            if found
            else "probe an image that has python3 (the one the training job actually runs)"
        ),
        evidence={
            "image.probe_mode": img.probe_mode,
            "meta.partial": ctx.facts.meta.partial,
            "system.python.executable": py.executable if py else None,
            "system.python.version": py.version if py else None,
        },
    )
