"""EL-ARCH-UNSUPPORTED by torch's own word where the paste does not hold torch's arch list
(issue 21, session 11: mmdetection-9876, an excerpt that ends after the warning's first line).

torch/cuda/__init__.py's _check_cubins (torch 1.8 on, the same words in every release since)
prints "GeForce RTX 3090 with CUDA capability sm_86 is not compatible with the current PyTorch
installation" only where no sm_XY of its arch list has the GPU's major (`sm // 10 ==
cap_major`; its PTX is not counted: pytorch#45130, merged before 1.7.0); torch 1.6's check,
the first, warned by another rule (`_warns`: 7.5 beside sm_70, whose SASS runs it). So the
matrix decides: where no official build whose release's check prints the warning runs the GPU
(by SASS, or by PTX from a torch whose CUDA knew the architecture: checks/ptxjit.py), the
installed torch has no kernels for it, whichever official build it is; where one does,
torch's word alone does not settle it and nothing is said. An RTX 3090's sm_86 warning alone
is settled (no build without sm_8x runs an 8.6 GPU: mmdetection-9876, MONAILabel-1015), as an
RTX 5090's sm_120 is. Its floor ('minimum cuda
capability', torch < 1.8's wording) is judged here too: a GPU below it has no kernels in the
build, whatever the rest of its list. Where the paste names torch's release and not its build
(no CUDA, no local tag), the release's official builds decide (checks/archrelease.py): a GPU
none of them runs has no kernels in the installed one, whichever it is.
"""

from __future__ import annotations

from collections.abc import Iterator

from envlock.checks.archrelease import release_lacks, untold_release
from envlock.checks.context import CheckContext, Gpu
from envlock.matrix import ArchTarget, Version
from envlock.matrix.advice import unservable
from envlock.pasted.torch_warnings import TORCH_NO_MAJOR_AT, TORCH_NO_MAJOR_KERNELS

# (GPU, its capability, what torch's build lacks, the evidence of the arch list, why)
Said = tuple[Gpu, Version, str, dict[str, object], str]


def said_without_list(ctx: CheckContext) -> Iterator[Said]:
    """The GPUs torch's own words (its floor, its 'not compatible' warning) say its build has
    no kernels for, where the facts hold no arch list (`ctx.torch_targets()` is None)."""
    floor = ctx.torch_floor
    warned = _warned(ctx.facts.meta.notes)
    release = untold_release(ctx)
    for g in ctx.gpus():
        cc = g.capability
        if cc is None or unservable(ctx.matrix, cc, ctx.os_name) is not None:
            continue  # no capability known, or no build serves it (EL-GPU-UNSERVABLE)
        if floor is not None:
            if cc < floor:
                what = f"is below the lowest compute capability ({floor}) supported by"
                yield g, cc, what, {"torch.live.min_capability": str(floor), **_FROM_FLOOR}, ""
            continue
        if g.name is not None and warned.get(g.name) == cc and not _ptx_serves(ctx, cc):
            evidence: dict[str, object] = {
                "arch_flags_from": "torch's warning: no sm_XY of its major"
            }
            yield g, cc, "has no kernels in", evidence, _why(cc)
        elif release is not None and (why := release_lacks(ctx, release, cc)) is not None:
            of = f"matrix: every official torch {release.release} build"
            yield g, cc, "has no kernels in", {"arch_flags_from": of}, why


_FROM_FLOOR = {"arch_flags_from": "torch's floor"}


def _why(cc: Version) -> str:
    return (
        f"; torch's own check says its arch list holds no sm_{cc.major}x kernels, and no "
        f"official build without them runs a {cc} GPU (PTX JIT needs a torch whose CUDA knew it)"
    )


def _warned(notes: list[str]) -> dict[str, Version]:
    """GPU name -> capability, of each 'not compatible' warning torch printed."""
    out: dict[str, Version] = {}
    for note in notes:
        if note.startswith(TORCH_NO_MAJOR_KERNELS):
            name, _, cc = note[len(TORCH_NO_MAJOR_KERNELS) :].rpartition(TORCH_NO_MAJOR_AT)
            version = Version.of(cc)
            if name and version is not None:
                out[name] = version
    return out


def _ptx_serves(ctx: CheckContext, cc: Version) -> bool:
    """Whether an official build that could have printed the warning runs the GPU all the
    same (`_warns`: by its release's own rule), by SASS or by PTX from a CUDA new enough to
    know the architecture."""
    known = ctx.matrix.capability(cc)
    first = known.first_cuda.truncate(2) if known is not None else None
    for release in ctx.matrix.torch:
        for v in release.variants:
            if v.targets is None or not _warns(release.release, v.targets, cc):
                continue
            cov = ctx.matrix.coverage(cc, v.targets)
            if cov.sass is not None or (cov.ptx and (first is None or v.cuda >= first)):
                return True
    return False


_FIRST_CHECK = Version((1, 6))  # torch/cuda/__init__.py's _check_cubins: from 1.6.0
_BY_MAJOR = Version((1, 7))  # pytorch#45130, in 1.7.0: any sm_XY of the GPU's major


def _warns(release: Version, targets: list[ArchTarget], cc: Version) -> bool:
    """Whether a build of `release` with these targets prints 'with CUDA capability sm_XY is
    not compatible' for a `cc` GPU, by that release's own check (its torch/cuda/__init__.py,
    read from the 1.5.0-2.10.0 wheels): none before 1.6; 1.6's warns unless some sm_XY has
    XY <= the GPU's and the GPU's within five of XY's multiple of five below it (7.5 beside
    sm_70 warns); 1.7's on warns only where no sm_XY of the GPU's major is built (its PTX not
    counted)."""
    sass = [t.capability for t in targets if not t.ptx]
    if release.truncate(2) < _FIRST_CHECK:
        return False
    if release.truncate(2) < _BY_MAJOR:
        gpu = cc.major * 10 + cc.minor
        built = [s.major * 10 + s.minor for s in sass]
        return not any(gpu >= sm and gpu - (sm // 5) * 5 < 5 for sm in built)
    return not any(s.major == cc.major for s in sass)
