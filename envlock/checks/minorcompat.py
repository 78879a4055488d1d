"""Whether EL-DRIVER-MINOR-COMPAT is a warning or a note: what in sight needs what CUDA's
minor-version compatibility lacks.

NVIDIA's CUDA Compatibility guide (Minor Version Compatibility): from CUDA 11 on, an
application built with a newer toolkit of the same major "can run, with limited feature set"
on a driver of that major; it lacks JIT compilation of PTX made by the newer toolchain
(cudaErrorUnsupportedPtxVersion: 'the provided PTX was compiled with an unsupported
toolchain') and driver APIs newer than the driver (cudaErrorCallRequiresNewerDriver, or an
undefined cu* symbol). A torch wheel carries SASS for each architecture of its list, so on GPUs
that list covers torch itself needs neither: a note. What does need them, and keeps the
warning: a GPU torch serves by PTX only (or whose coverage is not known), packages that ship
kernels of their own toolchain or call newer driver APIs (sglang#8432: sgl-kernel's
cuGreenCtxDestroy on a 535 driver), and a vLLM report (vLLM's collect_env sections), whose
troubleshooting guide names this very error on such drivers (vllm#31700).
"""

from __future__ import annotations

from envlock.checks.context import CheckContext
from envlock.checks.hints import COMPILED_FOR_TORCH
from envlock.pasted.draft import VLLM_REPORT

# Packages whose wheels carry CUDA kernels of their own toolchain (or JIT them at run time)
KERNEL_PACKAGES = (*COMPILED_FOR_TORCH, "flashinfer-python", "flashinfer", "sglang")


def needs_more_than_torch(ctx: CheckContext) -> str | None:
    """Why this machine needs more than minor-version compatibility gives, or None where
    torch alone runs on SASS for every GPU here."""
    dists = ctx.facts.packages.distributions
    shipped = [f"{n} {dists[n]}" for n in KERNEL_PACKAGES if n in dists]
    if shipped:
        return f"{', '.join(shipped)} ship kernels of their own CUDA toolchain"
    if VLLM_REPORT in ctx.facts.meta.notes:
        return "a vLLM environment (its collect_env's sections): vLLM's kernels are built by its own CUDA"
    return _gpus_without_sass(ctx)


def _gpus_without_sass(ctx: CheckContext) -> str | None:
    targets = ctx.torch_targets()
    gpus = ctx.gpus()
    if targets is None or not gpus:
        return "torch's arch list or the GPUs are not known here"
    for g in gpus:
        cov = ctx.matrix.coverage(g.capability, targets.targets) if g.capability else None
        if cov is None or cov.sass is None:
            return f"GPU {g.index} ({g.name}) has no SASS in torch's build"
    return None
