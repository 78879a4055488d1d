"""Whether PTX JIT can serve a GPU that a torch build has no SASS for.

The driver JIT-compiles torch's own PTX for a newer GPU, but torch's CUDA libraries (cuBLAS,
cuDNN) carry kernels only for the architectures that CUDA release knew: a build whose CUDA
predates the GPU's architecture (its first CUDA: sm_86 needs 11.1, sm_120 needs 12.8) fails on
it, PTX or not (pytorch#150733: 2.6 cu126 on an RTX 5090; detectron2#3076: a cu10x list ending
at compute_37 on an RTX 3090). Where the text does not say torch's CUDA, the arch list bounds
it: the official builds with exactly that list are the matrix's facts.
"""

from __future__ import annotations

from dataclasses import dataclass

from envlock.checks.context import CheckContext, Targets
from envlock.matrix import Version


@dataclass(frozen=True, slots=True)
class PtxRoad:
    """What decides PTX JIT for one GPU: torch's CUDA (or the newest CUDA an official build
    with this arch list was made with) and the first CUDA that knew the GPU's arch."""

    saves: bool | None  # None: torch's CUDA neither given nor bounded by the list
    cuda: Version | None
    cuda_from: str  # "torch" or "the official builds with this arch list"
    first_cuda: Version | None


def ptx_road(ctx: CheckContext, capability: Version, targets: Targets) -> PtxRoad:
    known = ctx.matrix.capability(capability)
    first = known.first_cuda if known is not None else None
    cuda, origin = ctx.torch_cuda, "torch"
    if cuda is None:
        cuda, origin = _newest_cuda_with(ctx, targets)
    if first is None:  # a GPU the table does not know: the JIT's own rule stands
        return PtxRoad(True if cuda is not None else None, cuda, origin, None)
    saves = None if cuda is None else cuda.truncate(2) >= first.truncate(2)
    return PtxRoad(saves, cuda, origin, first)


def _newest_cuda_with(ctx: CheckContext, targets: Targets) -> tuple[Version | None, str]:
    """The newest CUDA of an official build whose arch list is exactly `targets`; for a list
    no official build has (a Windows wheel's sm_61 and compute_37, a source build), the
    newest CUDA that still compiles every architecture in it (CUDA 12 dropped sm_37: a list
    holding it was built with 11.8 at most, RVC-2486's)."""
    want = sorted(targets.flags)
    found = [
        v.cuda
        for r in ctx.matrix.torch
        for v in r.variants
        if v.targets is not None and sorted(str(t) for t in v.targets) == want
    ]
    if found:
        return max(found), "the official builds with this arch list"
    lasts = [
        known.last_cuda
        for t in targets.targets
        if (known := ctx.matrix.capability(t.capability)) is not None and known.last_cuda
    ]
    return (min(lasts) if lasts else None), "the last CUDA that compiles all of its arch list"


def ptx_why(road: PtxRoad | None, ptx: str) -> str:
    """Why `ptx` PTX does not serve the GPU, for EL-ARCH-UNSUPPORTED's message."""
    if road is None or road.saves is not False or road.cuda is None or road.first_cuda is None:
        return ""
    said = (
        f"torch's is CUDA {road.cuda}"
        if road.cuda_from == "torch"
        else f"torch's is at most CUDA {road.cuda} ({road.cuda_from})"
    )
    return (
        f"; its only route, {ptx} PTX through the driver's JIT, needs a torch built with "
        f"CUDA {road.first_cuda} or newer (the first that knew this GPU's architecture, whose "
        f"cuBLAS and cuDNN carry its kernels), and {said}"
    )
