"""Fix hints shared by several checks: computed by the matrix (envlock.matrix.advice)."""

from __future__ import annotations

from envlock.checks.context import CheckContext
from envlock.matrix import cuda_variant
from envlock.matrix.advice import Remedy, evaluate, pip_command, remedy


def remedy_for(
    ctx: CheckContext,
    *,
    exclude_installed: bool = True,
    need_gpus: bool = True,
    full_only: bool = False,
) -> Remedy | None:
    """The roads out for this machine: the nearest official build that runs on these GPUs,
    this driver and this Python, and/or the driver that the installed build (or the nearest
    one) needs."""
    caps = [g.capability for g in ctx.gpus() if g.capability is not None]
    if not caps and need_gpus:
        return None
    fits = evaluate(
        ctx.matrix,
        capabilities=caps,
        driver=ctx.driver_version,
        os_name=ctx.os_name,
        python=ctx.python_version,
    )
    tc = ctx.torch_cuda
    return remedy(
        fits,
        installed=ctx.torch_version,
        installed_variant=cuda_variant(tc) if tc is not None else ctx.facts.torch.build,
        exclude_installed=exclude_installed,
        full_only=full_only,
    )


def remedy_text(r: Remedy | None, ctx: CheckContext) -> str | None:
    """'pip install ... (torch 2.0 cu118)'; 'or upgrade the driver to >= X' when that road
    exists too."""
    if r is None:
        return None
    parts: list[str] = []
    if r.build is not None:
        parts.append(
            f"{r.build.pip_command()}  (torch {r.build.release.release} {r.build.variant.name})"
        )
    if r.driver_at_least is not None and r.driver_build is not None:
        keep = r.driver_build
        tv = ctx.torch_version
        same = tv is not None and keep.release.release == tv.truncate(2)
        installed = (
            same
            and ctx.torch_cuda is not None
            and (cuda_variant(ctx.torch_cuda) == keep.variant.name)
        )
        what = (
            f"keep torch {ctx.facts.torch.version}"
            if installed
            else f"{pip_command(keep.release.release, keep.variant.name)}"
        )
        parts.append(f"upgrade the NVIDIA driver to >= {r.driver_at_least} and {what}")
    if r.driver_first:  # roads by cost: keeping the release before changing it
        parts.reverse()
    return "; or ".join(parts) if parts else None


def wheel_hint(ctx: CheckContext) -> str | None:
    """The computed fix as text (see remedy_for)."""
    return remedy_text(remedy_for(ctx), ctx)


def roads(ctx: CheckContext) -> list[dict[str, str]]:
    """The computed fix as data, for a finding's evidence ("fix.roads")."""
    r = remedy_for(ctx)
    return r.roads() if r is not None else []
