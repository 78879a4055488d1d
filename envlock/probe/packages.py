"""The `packages` section: versions of the distributions that decide whether training runs."""

from __future__ import annotations

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


def is_interesting(name: str) -> bool:
    return name in INTERESTING or name.startswith(_PREFIXES)


def collect(path: list[str] | None = None) -> dict[str, Any]:
    dists = _dists.distributions(path)
    found = {n: d.version for n, d in dists.items() if is_interesting(n)}
    return {"unavailable": None, "distributions": dict(sorted(found.items()))}
