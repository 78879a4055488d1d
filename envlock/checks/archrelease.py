"""EL-ARCH-UNSUPPORTED by torch's release alone, where the paste names the release but not
which of its builds is installed (issue 21, session 13: MinkowskiEngine-620's hand-written
list, 'PyTorch Version: 2.5.1' beside an RTX 5090, no local tag, no CUDA of torch's).

A release's official builds are the matrix's rows (matrix/torch.toml: each CUDA variant's arch
list). Where none of them runs the GPU, by SASS or by PTX from a CUDA that knew the GPU's
architecture (checks/ptxjit.py: torch's cuBLAS and cuDNN carry kernels only for the
architectures their CUDA knew), the installed torch has no kernels for it whichever build it
is: no official torch 2.5 has sm_120 (its newest CUDA is 12.4, Blackwell's first is 12.8). Its
CPU build would fail on the GPU too, and the fix, a build that carries the GPU's kernels
(computed from the matrix as for any EL-ARCH-UNSUPPORTED), is the road out of both. Not said
where the text is silent on the release's builds in another way the matrix does not hold: a
version with a local or pre-release tag (NVIDIA's, a source build, a nightly), a torch that is
not the official wheel (conda-forge's: matrix/builds.py), a CPU build torch itself stated, an
Arm machine (the matrix holds the x86_64 lists; a Jetson's are NVIDIA's), or a release one of
whose CUDA builds has no arch list in the matrix.
"""

from __future__ import annotations

import re

from envlock.checks.context import CheckContext
from envlock.matrix import TorchRelease, TorchVariant, Version
from envlock.matrix.builds import not_the_official_wheel
from envlock.pasted.libmessages import TORCH_NOT_COMPILED

# a release's own version, as PyPI's default build and conda's pytorch channel print it
_PLAIN = re.compile(r"\d{1,2}\.\d{1,3}(?:\.\d{1,3})?")


def untold_release(ctx: CheckContext) -> TorchRelease | None:
    """The official release the paste names torch by, where it says nothing of which build
    (no CUDA of torch's, no local tag, not stated a CPU build); None otherwise."""
    t = ctx.facts.torch
    if t.version is None or not _PLAIN.fullmatch(t.version):
        return None
    if ctx.torch_cuda is not None or ctx.torch_is_cpu_only or t.hip or t.build:
        return None
    if TORCH_NOT_COMPILED in ctx.facts.meta.notes or ctx.arm_machine or ctx.jetson:
        return None
    if not_the_official_wheel(t.version, ctx.facts.toolchain.conda_packages) is not None:
        return None
    release = ctx.matrix.torch_release(Version.parse(t.version))
    if release is None or any(v.targets is None for v in release.variants):
        return None
    return release


def release_lacks(ctx: CheckContext, release: TorchRelease, cc: Version) -> str | None:
    """Why no official build of `release` runs a `cc` GPU (EL-ARCH-UNSUPPORTED's words), or
    None where one does."""
    if any(_runs(ctx, v, cc) for v in release.variants):
        return None
    builds = ", ".join(v.name for v in release.variants)
    return (
        f"; no official build of torch {release.release} ({builds}) has sm_{cc.major}"
        f"{cc.minor} kernels or PTX that runs it, so whichever of them this is (the paste does "
        "not say) has none"
    )


def _runs(ctx: CheckContext, variant: TorchVariant, cc: Version) -> bool:
    """Whether the variant runs the GPU: its SASS, or its PTX where its CUDA knew the GPU's
    architecture (checks/ptxjit.py)."""
    cov = ctx.matrix.coverage(cc, variant.targets or [])
    if cov.sass is not None:
        return True
    known = ctx.matrix.capability(cc)
    first = known.first_cuda.truncate(2) if known is not None else None
    return cov.ptx is not None and (first is None or variant.cuda.truncate(2) >= first)
