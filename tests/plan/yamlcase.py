"""Reading the corpus's YAML plan files from disk for the reader tests: the use case's
`read_beside` (a file beside the plan file, or None) without the use case."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from pathlib import Path

from envlock.plan import registry
from envlock.plan.model import Plan, ReadOptions

CORPUS = Path(__file__).resolve().parent.parent / "fixtures" / "plan"


def beside(from_file: str, relative: str) -> str | None:
    path = (Path(from_file).parent / relative).resolve()
    return path.read_text() if path.is_file() else None


def read_corpus(
    fixture: str, build_args: Mapping[str, str] | None = None, target: str | None = None
) -> list[Plan]:
    """A corpus file read by the reader its name or content selects."""
    path = CORPUS / fixture
    text = path.read_text()
    kind = registry.detect(path.name, text)
    options = ReadOptions(build_args=dict(build_args or {}), target=target, read_beside=beside)
    plans: list[Plan] = registry.module_of(kind).read(text, str(path), options)
    return plans


def read_text(
    module: str,
    text: str,
    source: str = "plan.yml",
    read_beside: Callable[[str, str], str | None] | None = None,
    build_args: Mapping[str, str] | None = None,
) -> list[Plan]:
    """Text read by one reader module (`compose`, `kube`, `condaenv`)."""
    reader = importlib.import_module(f"envlock.plan.{module}")
    options = ReadOptions(build_args=dict(build_args or {}), read_beside=read_beside)
    plans: list[Plan] = reader.read(text, source, options)
    return plans
