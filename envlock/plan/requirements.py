"""A requirements file (pip's grammar, envlock/plan/reqs.py) as a Plan: one environment
with every requirement it lists, each with its own line; `-r` files beside it read too."""

from __future__ import annotations

import os

from envlock.plan.model import Plan, PlanError, ReadOptions, Span
from envlock.plan.reqs import as_install, read_requirements_file


def detect(text: str) -> bool:
    """Requirements files are known by their names only (any text file could be one)."""
    return False


def read(text: str, source: str, options: ReadOptions) -> list[Plan]:
    parsed = read_requirements_file(text, source, options.read_beside)
    if not parsed.requirements and parsed.index_url is None and not parsed.files:
        raise PlanError(f"{source}: no requirement pip would read")
    lines = text.split("\n")
    whole = Span(file=source, line=1, end_line=max(len(lines), 1), text=text)
    return [
        Plan(
            kind="requirements",
            name=os.path.basename(source),
            sources=(source,),
            installs=(as_install(parsed, whole),),
            notes=tuple(dict.fromkeys(parsed.notes))[:50],
        )
    ]
