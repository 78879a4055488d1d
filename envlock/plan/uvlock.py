"""uv's lock (uv.lock) as a Plan: every `[[package]]` pinned to its version, its registry
(`source = { registry = "https://download.pytorch.org/whl/cu128" }`) and first wheel. A
lock that resolves torch more than once (platform forks: a CPU build for macOS, a CUDA
build for Linux) is held by its Linux x86_64 build, with a note."""

from __future__ import annotations

import os
import re

from envlock.plan.model import Install, Plan, PlanError, ReadOptions, Requirement, Span
from envlock.plan.tomlplan import MAX_PACKAGES, as_list, as_table, block_spans, locked, parse


def detect(text: str) -> bool:
    head = text[:65536]
    return re.search(r"(?m)^version\s*=\s*1\s*$", head) is not None and "[[package]]" in head


def read(text: str, source: str, options: ReadOptions) -> list[Plan]:
    doc = parse(text, source)
    packages = as_list(doc.get("package"))
    if not packages or len(packages) > MAX_PACKAGES:
        raise PlanError(f"{source}: not a uv.lock (no [[package]] tables, or too many)")
    spans = block_spans(text, "package", source)
    chosen: dict[str, Requirement] = {}
    notes: list[str] = []
    for entry in packages:
        req = _requirement(as_table(entry), spans)
        if req is None:
            continue
        if req.name in chosen:
            notes.append(f"{source}: {req.name} is locked more than once: the Linux x86_64 one")
            if not _linux(req):
                continue
        chosen[req.name] = req
    whole = Span(file=source, line=1, end_line=len(text.split("\n")), text=text)
    return [
        Plan(
            kind="uv-lock",
            name=os.path.basename(source),
            sources=(source,),
            installs=(Install(installer="uv", requirements=tuple(chosen.values()), span=whole),),
            notes=tuple(dict.fromkeys(notes)),
        )
    ]


def _requirement(package: dict[str, object], spans: dict[str, Span]) -> Requirement | None:
    name = str(package.get("name", ""))
    src = as_table(package.get("source"))
    wheels = [str(as_table(w).get("url", "")) for w in as_list(package.get("wheels"))]
    linux = [w for w in wheels if "linux" in w and "x86_64" in w]
    return locked(
        name, package.get("version"), src.get("registry"), linux or wheels, spans.get(name)
    )


def _linux(req: Requirement) -> bool:
    return req.url is not None and "linux" in req.url and "x86_64" in req.url
