"""EL-ARCH-NVRTC-UNSUPPORTED: torch's runtime compiler is asked for an architecture it does
not know.

torch compiles some kernels while it runs, with NVRTC: the TorchScript fusers' kernels
(scripted and traced models), and since the jiterator some eager ops. It compiles for the
GPU's own architecture, capped at the newest one torch knows its NVRTC supports
(`codegenOutputQuery`, torch/csrc/jit/codegen/fuser/cuda/fused_kernel.cpp and
aten/src/ATen/native/cuda/jit_utils.cpp). The caps changed by release:

- every release: NVRTC 7 -> 5.0, 8 -> 6.0, 9 -> 7.2, 10 -> 7.5;
- from 1.7.1: NVRTC 11.0 -> 8.0 (pytorch#48151, cherry-picked as #48309; the RTX 30xx
  regression of pytorch#47658 and #48878 with torch 1.7.0 cu110);
- from 1.13.0: NVRTC 11.1-11.7 -> 8.6 (pytorch#87611, cherry-picked as #87618: an RTX 4090,
  sm_89, with a CUDA 11.3-11.7 build, pytorch#87595);
- any other NVRTC: the GPU's own architecture.

torch's NVRTC is its own CUDA's (the wheels carry it, conda's cudatoolkit is torch's CUDA).
An architecture newer than that CUDA knows (the matrix's first CUDA of each architecture)
makes the compile fail: 'nvrtc: error: invalid value for --gpu-architecture (-arch)'. Judged
only where torch's own kernels run on the GPU from SASS (else the arch checks speak). A
warning: eager kernels run, only what torch compiles at run time fails (vllm-3771, torch
1.12.1+cu113 on an RTX 4090, served its job).
"""

from __future__ import annotations

from collections.abc import Iterator

from envlock.checks.context import CheckContext, Gpu
from envlock.checks.hints import build_road, fits_here, install_command
from envlock.checks.registry import check
from envlock.findings import Finding, Severity
from envlock.matrix import Version, cuda_variant
from envlock.matrix.advice import Fit, remedy

_ALWAYS = Version((0,))
# (torch release from which the cap holds, lowest NVRTC, highest NVRTC, the cap)
CAPS = (
    (_ALWAYS, Version((0, 0)), Version((7, 99)), Version((5, 0))),
    (_ALWAYS, Version((8, 0)), Version((8, 99)), Version((6, 0))),
    (_ALWAYS, Version((9, 0)), Version((9, 99)), Version((7, 2))),
    (_ALWAYS, Version((10, 0)), Version((10, 99)), Version((7, 5))),
    (Version((1, 7, 1)), Version((11, 0)), Version((11, 0)), Version((8, 0))),
    (Version((1, 13, 0)), Version((11, 1)), Version((11, 7)), Version((8, 6))),
)


def jit_arch(torch: Version, nvrtc: Version, capability: Version) -> Version:
    """The architecture torch `torch` asks NVRTC `nvrtc` for on a GPU of `capability`."""
    release, nv = torch.truncate(3), nvrtc.truncate(2)
    for since, low, high, cap in CAPS:
        if release >= since and low <= nv <= high:
            return min(capability, cap)
    return capability


def nvrtc_fails(ctx: CheckContext, torch: Version, nvrtc: Version, capability: Version) -> bool:
    """The GPU's own architecture is asked for (no cap) and this NVRTC does not know it; a
    capped one is what torch knows that NVRTC supports (its table), never judged here."""
    if jit_arch(torch, nvrtc, capability) != capability:
        return False
    known = ctx.matrix.capability(capability)
    return known is not None and known.first_cuda.truncate(2) > nvrtc.truncate(2)


def _affected(ctx: CheckContext) -> list[Gpu]:
    tv, tc, targets = ctx.torch_version, ctx.torch_cuda, ctx.torch_targets()
    if tv is None or tc is None or targets is None or ctx.facts.torch.hip:
        return []
    return [
        g
        for g in ctx.gpus()
        if g.capability is not None
        and ctx.matrix.coverage(g.capability, targets.targets).sass is not None
        and nvrtc_fails(ctx, tv, tc, g.capability)
    ]


@check("EL-ARCH-NVRTC-UNSUPPORTED")
def arch_nvrtc_unsupported(ctx: CheckContext) -> Iterator[Finding]:
    gpus = _affected(ctx)
    if not gpus:
        return
    tv, tc = ctx.torch_version, ctx.torch_cuda
    assert tv is not None and tc is not None
    arch = jit_arch(tv, tc, gpus[0].capability or Version((0,)))
    fits = _fits(ctx, [g.capability for g in ctx.gpus() if g.capability is not None])
    r = remedy(fits, installed=tv, installed_variant=cuda_variant(tc), exclude_installed=True)
    yield Finding(
        check_id="EL-ARCH-NVRTC-UNSUPPORTED",
        severity=Severity.WARNING,
        message=(
            f"torch {ctx.facts.torch.version} compiles its fused and jiterator kernels at run "
            f"time with CUDA {tc}'s NVRTC for compute_{arch.major}{arch.minor}, which that NVRTC "
            "does not know, on GPU(s) "
            + ", ".join(f"{g.index}: {g.name} ({g.capability})" for g in gpus)
            + ": scripted or traced models (and jiterator ops) fail with 'nvrtc: error: "
            "invalid value for --gpu-architecture (-arch)', though eager kernels run"
            + _patch_note(tv, tc, arch)
        ),
        fix=_fix_text(ctx, r.build, gpus[0].capability or arch),
        evidence={
            "torch.version": ctx.facts.torch.version,
            "torch.cuda": ctx.facts.torch.cuda,
            "nvrtc.arch": f"compute_{arch.major}{arch.minor}",
            "gpu.compute_capability": {str(g.index): str(g.capability) for g in gpus},
            "fix.roads": _roads(ctx, r.build),
        },
    )


def _fits(ctx: CheckContext, caps: list[Version]) -> list[Fit]:
    """The official builds that run here and whose NVRTC knows what it is asked for on every
    GPU (judged at each release's first patch: `X.Y.*` may install it)."""
    fits = fits_here(ctx, caps)
    return [
        f
        for f in fits
        if not f.arch_unknown
        and all(
            not nvrtc_fails(ctx, Version((*f.release.release.parts[:2], 0)), f.variant.cuda, c)
            for c in caps
        )
    ]


def _fix_text(ctx: CheckContext, build: Fit | None, gpu: Version) -> str | None:
    if build is None:
        return None
    b = build.release.release
    command = install_command(ctx, b, build.variant.name)
    arch = jit_arch(Version((*b.parts[:2], 0)), build.variant.cuda, gpu)
    why = (
        f"CUDA {build.variant.cuda.truncate(2)}'s NVRTC knows compute_{arch.major}{arch.minor}"
        if arch == gpu
        else f"torch {b} asks its NVRTC for compute_{arch.major}{arch.minor}, which it knows"
    )
    return f"{command}  (torch {b} {build.variant.name}: {why})"


def _patch_note(torch: Version, nvrtc: Version, gpu: Version) -> str:
    """A later patch of the installed release that caps the architecture (1.7.1)."""
    for since, low, high, cap in CAPS:
        later = since.truncate(2) == torch.truncate(2) and since > torch.truncate(3)
        if later and low <= nvrtc.truncate(2) <= high and gpu > cap:
            return f"; torch {since} caps it at compute_{cap.major}{cap.minor}"
    return ""


def _roads(ctx: CheckContext, build: Fit | None) -> list[dict[str, str]]:
    if build is None:
        return []
    road = {"torch": str(build.release.release), "variant": build.variant.name}
    return [build_road(ctx, road)]
