"""Which cuDNN torch uses, and whether it supports a GPU: read by the cuDNN checks
(checks/libraries.py) and by EL-ARCH-UNSUPPORTED, which says the cuDNN side of a GPU the
build has no kernels for (one cause, one finding)."""

from __future__ import annotations

import re

from envlock.checks.context import CheckContext, basename
from envlock.facts import LoadedLibFacts
from envlock.matrix import Version


def loaded(ctx: CheckContext, prefix: str) -> list[LoadedLibFacts]:
    live = ctx.facts.torch.live
    return [lib for lib in (live.loaded_libraries if live else []) if lib.name.startswith(prefix)]


def _file_version(name: str) -> Version | None:
    """libcudnn.so.9.13.1 -> 9.13.1; libcudnn.so.9 -> None (too coarse to compare)."""
    m = re.search(r"\.so\.(\d+\.\d+(?:\.\d+)*)$", name)
    return Version.parse(m.group(1)) if m else None


def runtime_cudnn(ctx: CheckContext) -> tuple[Version | None, str]:
    live = ctx.facts.torch.live
    if live is not None and (v := Version.of(live.cudnn_version)) is not None:
        return v, "torch.backends.cudnn.version()"
    for lib in loaded(ctx, "libcudnn"):
        if (v := _file_version(basename(lib.path))) is not None:
            return v, f"loaded file {lib.path}"
    return None, "unknown"


def cudnn_in_use(ctx: CheckContext) -> Version | None:
    """The cuDNN torch loads; when that is unknown, the one its build was made with."""
    runtime, _ = runtime_cudnn(ctx)
    variant = ctx.torch_variant()
    return runtime or (variant.cudnn if variant else None)


def cudnn_outside(ctx: CheckContext, capability: Version) -> str | None:
    """'cuDNN 9.5.1 supports compute capability 5.0-9.0' where the cuDNN torch uses does
    not support `capability`; None otherwise or when that is unknown."""
    cudnn = cudnn_in_use(ctx)
    entry = ctx.matrix.cudnn_range(cudnn) if cudnn else None
    if cudnn is None or entry is None or entry.supports_capability(capability):
        return None
    low, high = entry.capability_min or "?", entry.capability_max or "newest"
    return f"cuDNN {cudnn} supports compute capability {low}-{high}"
