"""A PEP 751 lock (pylock.toml) as a Plan: every locked package pinned to its version, its
index and wheel, each with its `[[packages]]` block's lines. The file is validated by
packaging's own reader (packaging >= 26: packaging.pylock), as installers read it."""

from __future__ import annotations

import os
import re

from envlock.plan.model import Install, Plan, PlanError, ReadOptions, Requirement, Span
from envlock.plan.tomlplan import MAX_PACKAGES, as_list, as_table, block_spans, locked, parse


def detect(text: str) -> bool:
    return re.search(r"(?m)^lock-version\s*=", text[:65536]) is not None and "[[packages]]" in text


def read(text: str, source: str, options: ReadOptions) -> list[Plan]:
    from packaging.pylock import Pylock, PylockUnsupportedVersionError, PylockValidationError

    doc = parse(text, source)
    try:
        Pylock.from_dict(doc)
    except (PylockValidationError, PylockUnsupportedVersionError) as e:
        raise PlanError(f"{source}: not a pylock.toml packaging reads ({e})") from None
    spans = block_spans(text, "packages", source)
    packages = as_list(doc.get("packages"))
    if len(packages) > MAX_PACKAGES:
        raise PlanError(f"{source}: more than {MAX_PACKAGES} packages")
    requirements: list[Requirement] = []
    for entry in packages:
        package = as_table(entry)
        name = str(package.get("name", ""))
        wheels = [str(as_table(w).get("url", "")) for w in as_list(package.get("wheels"))]
        req = locked(name, package.get("version"), package.get("index"), wheels, spans.get(name))
        if req is not None:
            requirements.append(req)
    lines = text.split("\n")
    whole = Span(file=source, line=1, end_line=len(lines), text=text)
    return [
        Plan(
            kind="pylock",
            name=os.path.basename(source),
            sources=(source,),
            installs=(Install(installer="pip", requirements=tuple(requirements), span=whole),),
        )
    ]
