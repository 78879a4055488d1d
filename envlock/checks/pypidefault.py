"""A torch family member pip installed without a local tag is PyPI's default variant of its
release (the matrix's default-variant), and what that member brings with it.

vllm#16632: `torchaudio==2.5.1` beside `torch==2.5.1+cu118` is PyPI's cu124 build on Linux
x86_64; it pulled in CUDA 12's nvidia-* wheels (a second NCCL among them) beside torch's
CUDA 11 ones. PyPI's macOS and Windows wheels are other builds (CPU), so only Linux x86_64
is judged; conda's build of a member, a member published without variants, and a torch
without a variant tag (conda's, a vendor's, a source build) are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from envlock.checks.context import CheckContext
from envlock.checks.hints import variantless
from envlock.matrix import Version
from envlock.matrix.builds import PYTORCH_INDEX, is_released, torch_origin
from envlock.matrix.family import PAIRED, Family


@dataclass(frozen=True, slots=True)
class Default:
    member: str
    version: str
    variant: str  # PyPI's default variant of the member's release ("cu124")


def pypi_defaults(
    ctx: CheckContext, family: Family, installed: dict[str, str]
) -> Iterator[Default]:
    """The members of torch's own release that are PyPI's default variant of it while
    torch's local tag names another variant."""
    tv = ctx.torch_version
    origin = torch_origin(ctx.facts.torch.version or "")
    if tv is None or origin.kind != PYTORCH_INDEX or origin.variant is None:
        return
    if not _linux_x86_64(ctx):
        return
    conda = ctx.facts.toolchain.conda_packages
    for member, have in ((m, installed.get(m)) for m in PAIRED):
        variant = _default_of(ctx, family, tv, member, have) if have else None
        if have and variant and variant != origin.variant and not _conda_build(conda, member):
            yield Default(member, have, variant)


def _default_of(
    ctx: CheckContext, family: Family, tv: Version, member: str, have: str
) -> str | None:
    """PyPI's default variant of a pip-installed member of torch's own release (no local
    tag, a release, published with variants); None otherwise."""
    v = Version.of(have)
    if v is None or "+" in have or not is_released(have):
        return None
    row = family.torch_for(member, v)
    # a member of another release is the pairing's finding; this one is the variant
    if row is None or row.torch != tv.truncate(2) or variantless(member, v.truncate(2)):
        return None
    release = ctx.matrix.torch_release(row.torch)
    return release.default_variant if release is not None else None


def _linux_x86_64(ctx: CheckContext) -> bool:
    os_facts = ctx.facts.system.os
    if os_facts is not None and os_facts.id in ("windows", "macos"):
        return False
    return (ctx.facts.system.arch or "").lower() in ("x86_64", "amd64")


def _conda_build(conda: dict[str, str], member: str) -> bool:
    """conda lists its own build of `member` (a build string, not pip's `pypi_0`)."""
    build = conda.get(member, "").partition(" ")[2]
    return bool(build) and not build.startswith(("pypi", "<pip>"))


def consequences(ctx: CheckContext, variants: set[str]) -> list[str]:
    """The findings members of these variants bring with them: their CUDA major's nvidia-*
    wheels beside torch's (EL-WHEELS-MIXED-CUDA), and so a second NCCL (EL-NCCL-MULTIPLE)."""
    majors = {int(v[2:-1]) for v in variants if re.fullmatch(r"cu\d{2,3}", v)}
    torch_cuda = ctx.torch_cuda
    wheels = ctx.facts.cuda.wheels
    pulled = [w for w in wheels if w.cuda_major in majors]
    if not pulled or torch_cuda is None or torch_cuda.major in majors:
        return []
    nccl = [w for w in wheels if w.name.startswith("nvidia-nccl")]
    return ["EL-WHEELS-MIXED-CUDA"] + (
        ["EL-NCCL-MULTIPLE"] if len(nccl) > 1 and any(w in pulled for w in nccl) else []
    )
