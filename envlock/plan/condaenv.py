"""A conda environment file (`conda env create -f environment.yml`) as one Plan: its
`dependencies` as one conda install from its `channels` (match specs through
envlock.plan.reqs: `pytorch=2.1.0`, `pytorch::pytorch`, `pytorch-cuda=12.1`,
`cudatoolkit=11.3`, a build string), its `pip:` section as one pip install (requirements,
`--index-url`, `--extra-index-url`, `-f`, `-r FILE` read beside the file; `-e` and VCS
lines name no distribution), and `variables` as its environment. Format:
docs.conda.io, "Creating an environment file manually"."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from envlock.plan.model import EnvVar, Install, Plan, ReadOptions, Requirement, Span
from envlock.plan.reqs import conda_requirement, pip_requirement, read_requirements_file
from envlock.plan.yamltree import Tree, load, scalar_text

if TYPE_CHECKING:
    from yaml.nodes import Node

MAX_DEPENDENCIES = 5000
_DETECT = re.compile(r"^dependencies[ \t]*:", re.MULTILINE)
_PIP_VALUE = {
    "-i": "index",
    "--index-url": "index",
    "--extra-index-url": "extra",
    "-f": "links",
    "--find-links": "links",
    "-r": "file",
    "--requirement": "file",
}


def detect(text: str) -> bool:
    """A top-level `dependencies:` key."""
    return _DETECT.search(text[: 1 << 20]) is not None


def read(text: str, source: str, options: ReadOptions) -> list[Plan]:
    tree = load(text, source)
    if not tree.documents:
        return [Plan(kind="conda-env", name=source, sources=(source,), notes=("empty file",))]
    doc = tree.documents[0]
    deps_key = tree.mapping(doc).get("dependencies")
    if deps_key is None:
        return [Plan(kind="conda-env", name=source, sources=(source,), notes=("no dependencies",))]
    notes: list[str] = []
    channels = tuple(
        c for c in (scalar_text(n) for n in tree.sequence(tree.get(doc, "channels"))) if c
    )
    conda: list[Requirement] = []
    pip_nodes: list[Node] = []
    for item in tree.sequence(deps_key[1])[:MAX_DEPENDENCIES]:
        word = scalar_text(item)
        if word is None:
            pip_nodes.extend(tree.sequence(tree.get(item, "pip")))
            continue
        req = conda_requirement(word, span=tree.span(item))
        if req is None:
            notes.append(f"{tree.span(item).where}: {word!r} is not a conda match spec: skipped")
        else:
            conda.append(req)
    installs = [
        Install(
            installer="conda",
            requirements=tuple(conda),
            channels=channels,
            span=tree.span(deps_key[1], deps_key[0]),
        )
    ]
    pip = _pip(tree, pip_nodes, options, notes)
    if pip is not None:
        installs.append(pip)
    return [
        Plan(
            kind="conda-env",
            name=tree.text(doc, "name") or source,
            sources=(source,),
            env=tuple(_variables(tree, doc)),
            installs=tuple(installs),
            notes=tuple(notes),
        )
    ]


def _pip(tree: Tree, items: list[Node], options: ReadOptions, notes: list[str]) -> Install | None:
    """The `pip:` section as one pip install (its span: the section's lines)."""
    if not items:
        return None
    reqs: list[Requirement] = []
    index: str | None = None
    extra: list[str] = []
    links: list[str] = []
    files: list[str] = []
    for item in items:
        span = tree.span(item)
        line = (scalar_text(item) or "").strip()
        option, _, value = (
            line.replace("=", " ", 1).partition(" ") if line.startswith("-") else ("", "", "")
        )
        kind = _PIP_VALUE.get(option)
        value = value.strip()
        if kind == "index":
            index = value
        elif kind == "extra":
            extra.append(value)
        elif kind == "links":
            links.append(value)
        elif kind == "file":
            files.append(value)
            reqs.extend(_included(tree, value, options, notes, span.where))
        elif line.startswith("-") or not line:
            notes.append(
                f"{span.where}: {line[:80]!r}: names no distribution (pip option): skipped"
            )
        else:
            req = pip_requirement(line, span=span)
            if req is None:
                notes.append(f"{span.where}: {line[:80]!r} names no distribution: skipped")
            else:
                reqs.append(req)
    first, last = tree.span(items[0]), tree.span(items[-1])
    whole = Span(
        file=first.file,
        line=first.line,
        end_line=last.end_line,
        text="\n".join(tree.lines[first.line - 1 : last.end_line]),
    )
    return Install(
        installer="pip",
        requirements=tuple(reqs),
        index_url=index,
        extra_index_urls=tuple(extra),
        find_links=tuple(links),
        requirement_files=tuple(files),
        span=whole,
    )


def _included(
    tree: Tree, name: str, options: ReadOptions, notes: list[str], where: str
) -> list[Requirement]:
    text = options.read_beside(tree.source, name) if options.read_beside else None
    if text is None:
        notes.append(f"{where}: -r {name}: not found beside the plan file: not read")
        return []
    parsed = read_requirements_file(text, name, options.read_beside)
    notes.extend(parsed.notes)
    return parsed.requirements


def _variables(tree: Tree, doc: Node) -> list[EnvVar]:
    out = []
    for name, (key, value) in tree.mapping(tree.get(doc, "variables")).items():
        text = scalar_text(value)
        if text is not None:
            out.append(EnvVar(name=name, value=text, span=tree.span(value, key)))
    return out
