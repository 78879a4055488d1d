"""The `packages` section: versions of the distributions that decide whether training runs."""

from __future__ import annotations

import re

from envlock.probe import _dists

# typing is not imported at run time (~3 ms of every container probe).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

INTERESTING = frozenset(
    {
        "torch",
        "torchvision",
        "torchaudio",
        "triton",
        "pytorch-triton",
        "numpy",
        "jax",
        "jaxlib",
        "transformers",
        "accelerate",
        "deepspeed",
        "flash-attn",
        "xformers",
        "bitsandbytes",
        "vllm",
        "apex",
        "transformer-engine",
        "nvidia-ml-py",
        "pynvml",
    }
)
_PREFIXES = ("nvidia-", "cuda-")
# The torch family (envlock/matrix/family.py FAMILY): every installed distribution's
# Requires-Dist lines naming one of these are recorded, for the family check.
FAMILY = frozenset({"torch", "torchvision", "torchaudio", "torchtext", "triton", "pytorch-triton"})
_REQ_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def is_interesting(name: str) -> bool:
    return name in INTERESTING or name.startswith(_PREFIXES)


def collect(path: list[str] | None = None) -> dict[str, Any]:
    dists = _dists.distributions(path)
    found = {n: d.version for n, d in dists.items() if is_interesting(n)}
    return {
        "unavailable": None,
        "distributions": dict(sorted(found.items())),
        "requires": family_requires(dists),
    }


def family_requires(dists: dict[str, _dists.Dist]) -> list[dict[str, Any]]:
    """Each installed distribution's Requires-Dist lines that name a torch family member
    (read from its METADATA headers), with its own version."""
    out: list[dict[str, Any]] = []
    for name, dist in sorted(dists.items()):
        if name.startswith(_PREFIXES):
            continue  # CUDA library wheels never require torch; their METADATA is skipped
        lines = []
        for req in dist.requires():
            m = _REQ_NAME.match(req)
            if m and _dists.normalize(m.group(1)) in FAMILY:
                lines.append(req)
        if lines:
            out.append({"distribution": name, "version": dist.version, "requires": lines})
    return out
