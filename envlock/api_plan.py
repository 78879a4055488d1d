"""The front door's plan checks (issue 24): a Dockerfile, compose file, manifest,
requirements file or lock held against a host before anything is built. Re-exported by
envlock.api, where callers find them; kept here so that the front door stays one call per
function in files of a readable size.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from envlock.findings import Report
    from envlock.usecases.plan import PlanAdvice


def doctor_plan(
    plans: Iterable[str],
    *,
    facts: str | None = None,
    build_args: Mapping[str, str] | None = None,
    target: str | None = None,
    ignore: Iterable[str] = (),
    strict: bool = False,
    facts_dir: str | None = None,
    probe_base: bool = True,
) -> Report:
    """The doctor on plan files before anything is built (a Dockerfile, compose file,
    Kubernetes manifest, requirements file, pylock.toml, uv.lock, pyproject.toml, conda
    environment.yml; the kind detected by name, then content): each finding names the
    file:line that states its fact and, where the matrix gives one, its fix is that
    instruction's replacement text, re-checked. Held against this machine's driver and GPUs,
    or those of the facts file `facts`. `build_args` and `target` as `docker build`'s.
    `facts_dir`: a directory of per-node facts files (`fleet report`'s): each kind of node
    judged, each finding naming the nodes it holds on. `probe_base` (the default): a base
    image whose tag states nothing is probed as `--image` would, when it is present in the
    local engine (never pulled; a bounded wait where no engine answers)."""
    if facts_dir is not None:
        from envlock.usecases.planfleet import doctor_plan_fleet

        return doctor_plan_fleet(
            plans,
            facts_dir=facts_dir,
            build_args=build_args or {},
            target=target,
            ignore=ignore,
            strict=strict,
        )
    from envlock.usecases.plan import doctor_plan as _doctor_plan

    return _doctor_plan(
        plans,
        facts_file=facts,
        build_args=build_args or {},
        target=target,
        ignore=ignore,
        strict=strict,
        probe_base=probe_base,
    )


def plan_advice(
    plans: Iterable[str],
    *,
    facts: str | None = None,
    build_args: Mapping[str, str] | None = None,
    target: str | None = None,
    probe_base: bool = True,
) -> PlanAdvice:
    """What would run on this machine (or `facts`'s) instead of each plan's torch and CUDA
    base image: the replacement text of each instruction, re-checked against the plan."""
    from envlock.usecases.plan import plan_advice as _plan_advice

    return _plan_advice(
        plans, facts_file=facts, build_args=build_args or {}, target=target, probe_base=probe_base
    )
