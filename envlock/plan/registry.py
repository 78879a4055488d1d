"""Every plan file kind envlock reads: its name, its reader module and the file names that
mean it. Detection: the file's name first, then each kind's `detect(text)` in this order
(the most specific content first)."""

from __future__ import annotations

import fnmatch
import importlib
from dataclasses import dataclass
from types import ModuleType

from envlock.plan.model import FileKind, PlanError


@dataclass(frozen=True, slots=True, kw_only=True)
class Kind:
    name: FileKind
    module: str  # envlock.plan.<module>: detect(text) and read(text, source, options)
    names: tuple[str, ...]  # fnmatch patterns on the file's base name, lowercased


KINDS: tuple[Kind, ...] = (
    Kind(name="pylock", module="envlock.plan.pylock", names=("pylock.toml", "pylock.*.toml")),
    Kind(name="uv-lock", module="envlock.plan.uvlock", names=("uv.lock",)),
    Kind(name="pyproject", module="envlock.plan.pyproject", names=("pyproject.toml",)),
    Kind(
        name="compose",
        module="envlock.plan.compose",
        names=("docker-compose*.yml", "docker-compose*.yaml", "compose*.yml", "compose*.yaml"),
    ),
    Kind(
        name="conda-env",
        module="envlock.plan.condaenv",
        names=("environment*.yml", "environment*.yaml"),
    ),
    Kind(name="kubernetes", module="envlock.plan.kube", names=()),
    Kind(
        name="dockerfile",
        module="envlock.plan.dockerfile",
        names=("dockerfile", "dockerfile.*", "*.dockerfile", "containerfile", "containerfile.*"),
    ),
    Kind(
        name="requirements",
        module="envlock.plan.requirements",
        names=("requirements*.txt", "*requirements.txt", "requirements*.in", "constraints*.txt"),
    ),
)
BY_NAME: dict[str, Kind] = {k.name: k for k in KINDS}


def module_of(kind: Kind) -> ModuleType:
    """The reader module of a kind (imported on first use)."""
    return importlib.import_module(kind.module)


def detect(base_name: str, text: str) -> Kind:
    """The kind of a plan file, by its name, else by its content (PlanError: neither)."""
    lowered = base_name.lower()
    for kind in KINDS:
        if any(fnmatch.fnmatchcase(lowered, pattern) for pattern in kind.names):
            return kind
    for kind in KINDS:
        try:
            module = module_of(kind)
        except ModuleNotFoundError:  # a reader not yet present in this checkout
            continue
        if module.detect(text):
            return kind
    raise PlanError(
        f"{base_name}: not a plan file envlock reads (a Dockerfile, compose file, Kubernetes "
        "manifest, requirements file, pylock.toml, uv.lock, pyproject.toml or environment.yml)"
    )
