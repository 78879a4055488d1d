"""pyproject.toml's torch, as uv installs it: `[project] dependencies` (and optional
dependencies), with `[tool.uv.sources]` pointing a package at a `[[tool.uv.index]]` by name
(`torch = { index = "pytorch-cu128" }`, or a list of them by marker: the first one
without a non-Linux marker). Each requirement carries its line in the file."""

from __future__ import annotations

import os

from envlock.plan.model import Install, Plan, PlanError, ReadOptions, Requirement, Span
from envlock.plan.reqs import pip_requirement
from envlock.plan.tomlplan import as_list, as_table, parse

MAX_DEPENDENCIES = 5000


def detect(text: str) -> bool:
    return "[project]" in text[:65536] or "[tool.uv" in text[:65536]


def read(text: str, source: str, options: ReadOptions) -> list[Plan]:
    doc = parse(text, source)
    project = as_table(doc.get("project"))
    uv = as_table(as_table(doc.get("tool")).get("uv"))
    indexes = {
        str(as_table(i).get("name")): str(as_table(i).get("url"))
        for i in as_list(uv.get("index"))
        if as_table(i).get("url")
    }
    sources = as_table(uv.get("sources"))
    words = [str(d) for d in as_list(project.get("dependencies"))]
    for group in as_table(project.get("optional-dependencies")).values():
        words.extend(str(d) for d in as_list(group))
    if len(words) > MAX_DEPENDENCIES:
        raise PlanError(f"{source}: more than {MAX_DEPENDENCIES} dependencies")
    lines = text.split("\n")
    where = _quoted_lines(lines, source)
    requirements = []
    for word in words:
        req = pip_requirement(word, span=where.get(word))
        if req is not None:
            requirements.append(_with_index(req, sources.get(req.name), indexes))
    whole = Span(file=source, line=1, end_line=len(lines), text=text)
    return [
        Plan(
            kind="pyproject",
            name=str(project.get("name") or os.path.basename(source)),
            sources=(source,),
            installs=(Install(installer="uv", requirements=tuple(requirements), span=whole),),
        )
    ]


def _with_index(req: Requirement, uv_source: object, indexes: dict[str, str]) -> Requirement:
    import dataclasses

    entries = as_list(uv_source) if isinstance(uv_source, list) else [uv_source]
    for entry in entries:
        table = as_table(entry)
        marker = str(table.get("marker", ""))
        if "darwin" in marker or "win32" in marker:
            continue
        index = indexes.get(str(table.get("index")))
        if index is not None:
            return dataclasses.replace(req, index=index)
    return req


def _quoted_lines(lines: list[str], source: str) -> dict[str, Span]:
    """Each quoted string of the file -> the first line holding it (one pass)."""
    import re

    out: dict[str, Span] = {}
    for i, line in enumerate(lines):
        for m in re.finditer(r"\"([^\"\\]*)\"|'([^'\\]*)'", line):
            word = m[1] if m[1] is not None else m[2]
            out.setdefault(word, Span(file=source, line=i + 1, end_line=i + 1, text=line))
    return out
