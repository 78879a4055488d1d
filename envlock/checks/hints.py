"""Fix hints shared by several checks."""

from __future__ import annotations

from envlock.checks.context import CheckContext
from envlock.matrix.advice import best, evaluate


def wheel_hint(ctx: CheckContext) -> str | None:
    """'pip install ...' for the newest official torch that runs on these GPUs and driver."""
    caps = [g.capability for g in ctx.gpus() if g.capability is not None]
    if not caps:
        return None
    fit = best(
        evaluate(
            ctx.matrix,
            capabilities=caps,
            driver=ctx.driver_version,
            os_name=ctx.os_name,
            python=ctx.python_version,
        )
    )
    if fit is None:
        return None
    return f"{fit.pip_command()}  (torch {fit.release.release} {fit.variant.name})"
