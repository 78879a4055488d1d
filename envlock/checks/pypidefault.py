"""A torch family member pip installed without a local tag is PyPI's default variant of its
release (the matrix's default-variant), and what that member brings with it.

vllm#16632: `torchaudio==2.5.1` beside `torch==2.5.1+cu118` is PyPI's cu124 build on Linux
x86_64; it pulled in CUDA 12's nvidia-* wheels (a second NCCL among them) beside torch's
CUDA 11 ones.

PyPI's Windows wheels are CPU builds (pytorch.github.io#757, June 2021: "Windows CPU only
wheels are available on PyPI"; pytorch#131731: `pip3 install torch` on Windows gets the CPU
2.4.0), and from torch 1.9 on every CUDA install command of PyTorch's site names its +cuNNN
build, on Linux and Windows alike (its previous-versions page: 1.8's 'CUDA 10.2: pip install
torch==1.8.0' was untagged): a member of torch 1.9 or later without a local tag on Windows is
PyPI's CPU build (ultralytics#17704: torchvision 0.20.1 beside torch 2.5.1+cu124, whose
torchvision::nms has no CUDA kernel); where the report shows a conda environment, only a
member conda lists as pip's is judged there. macOS's wheels are not judged; conda's build of a
member, a member published without variants, and a torch without a variant tag (conda's, a
vendor's, a source build) are left alone.
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

# the first torch release whose CUDA wheels all carry their +cuNNN tag on Windows too
WINDOWS_TAGGED_FROM = Version((1, 9))


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
    platform = _pypi_platform(ctx)
    if platform is None:
        return
    conda = ctx.facts.toolchain.conda_packages
    for member, have in ((m, installed.get(m)) for m in PAIRED):
        variant = _default_of(ctx, family, tv, member, have, platform) if have else None
        if have and variant and variant != origin.variant and not _conda_build(conda, member):
            if platform == "windows" and _conda_unsaid(conda, member):
                continue
            yield Default(member, have, variant)


def _default_of(
    ctx: CheckContext, family: Family, tv: Version, member: str, have: str, platform: str
) -> str | None:
    """PyPI's build of a pip-installed member of torch's own release (no local tag, a
    release, published with variants) on `platform`: Linux's default variant, Windows' CPU
    build; None otherwise."""
    v = Version.of(have)
    if v is None or "+" in have or not is_released(have):
        return None
    row = family.torch_for(member, v)
    # a member of another release is the pairing's finding; this one is the variant
    if row is None or row.torch != tv.truncate(2) or variantless(member, v.truncate(2)):
        return None
    if platform == "windows":
        return None if row.torch < WINDOWS_TAGGED_FROM else "cpu"
    release = ctx.matrix.torch_release(row.torch)
    return release.default_variant if release is not None else None


def _pypi_platform(ctx: CheckContext) -> str | None:
    """'linux' for Linux x86_64, 'windows' for Windows (any machine: PyPI's are CPU builds
    there), None where PyPI's build is not known (macOS, other Linux machines, unknown)."""
    os_facts = ctx.facts.system.os
    if os_facts is not None and os_facts.id == "windows":
        return "windows"
    return "linux" if _linux_x86_64(ctx) else None


def _linux_x86_64(ctx: CheckContext) -> bool:
    os_facts = ctx.facts.system.os
    if os_facts is not None and os_facts.id in ("windows", "macos"):
        return False
    return (ctx.facts.system.arch or "").lower() in ("x86_64", "amd64")


def _conda_build(conda: dict[str, str], member: str) -> bool:
    """conda lists its own build of `member` (a build string, not pip's `pypi_0`)."""
    build = conda.get(member, "").partition(" ")[2]
    return bool(build) and not build.startswith(("pypi", "<pip>"))


def _conda_unsaid(conda: dict[str, str], member: str) -> bool:
    """A conda environment that does not say the member is pip's (its list holds packages
    but not the member's `pypi_0` line): on Windows conda's untagged build may be a CUDA one
    (pytorch-51858: '[conda] blas 1.0', the list cut after it, beside torchvision 0.15.2)."""
    build = conda.get(member, "").partition(" ")[2]
    return bool(conda) and not build.startswith(("pypi", "<pip>"))


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
