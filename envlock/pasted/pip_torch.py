"""torch from collect_env's library list where the paste has no 'PyTorch version' line.

A reporter often pastes only the 'Versions of relevant libraries' part of collect_env
(ROCm/legacy-rocm-build#4729: a '> '-quoted `[pip3] torch==2.3.0+rocm6.2.3` beside
`[pip3] torchaudio==2.7.0+rocm6.3`). pip's list says which torch is installed; the wheel
index's local tag (+cu121, +cpu, +rocm6.2.3) says which build it is, as for a pip freeze
alone (envlock/pasted/__init__.py). A version without such a tag (PyPI's, a source
build's git hash) says no build: torch stays unread, never guessed.
"""

from __future__ import annotations

import re

from envlock.pasted.draft import Draft

_BUILD_TAG = re.compile(
    r"^\d+\.\d+(?:\.\d+)?(?:[a-z]+\d*)?\+(cu(\d{2,4})|cpu|rocm(\d+(?:\.\d+)*))$"
)


def torch_from_pip_list(d: Draft, fields: dict[str, list[str]]) -> None:
    """torch's version and build from `[pip3] torch==X+tag` when no line of the paste
    printed torch's own version (no 'PyTorch version' line, nothing else read torch)."""
    version = d.packages.get("torch")
    if version is None or "torch_version" in fields or d.torch:
        return
    m = _BUILD_TAG.match(version)
    if m is None:
        return
    cuda_digits, rocm = m.group(2), m.group(3)
    d.torch.update(
        {
            "installed": True,
            "version": version,
            "cuda": f"{cuda_digits[:-1]}.{cuda_digits[-1]}" if cuda_digits else None,
            "hip": rocm,
            "build": m.group(1),
        }
    )
    d.note(
        f"torch {version}: read from the pip list (the paste has no 'PyTorch version' line); "
        "whether it imports is not shown"
    )
