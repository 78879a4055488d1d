"""The full closure a lock holds, and what it takes to install it again. Pure.

- which distributions are the job's ([packages]) and which the installer's or
  envlock's own ([tools]: recorded, never compared as drift);
- the torch variant (cpu, cu126, cu130, rocm6.2, ...) and the index it is
  installed from, derived from probed facts (the local version tag,
  `torch.version.cuda`), never guessed from the version alone: torch 2.14.1
  from the default index is a CUDA 13.0 build with no `+cu130` tag;
- which distributions cannot be installed from an index elsewhere (editable
  or local-path installs, from `direct_url.json`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from envlock.findings import Finding, Severity

if TYPE_CHECKING:
    from envlock.lock.model import LockedSource

# The installer's own tooling: present in every venv at whatever version the
# installer brought; recorded in [tools], never drift.
INSTALLER_PACKAGES = frozenset({"pip", "setuptools", "wheel", "uv", "distribute"})

# The default package index: where untagged torch builds (and everything else) come from.
DEFAULT_INDEX = "https://pypi.org/simple"

# What lock-version 1.0 recorded in [packages] (the allow-list of the probe of that
# time). A 1.0 lock is verified against these names only: the rest of the closure
# was never recorded, so it is not drift (see verify and the README's "Lock versions").
V1_0_PACKAGES = frozenset(
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
_V1_0_PREFIXES = ("nvidia-", "cuda-")

# Packages whose build follows torch's CUDA variant: a restore with another variant
# lets the installer choose them for that variant instead of the locked ones.
_VARIANT_PREFIXES = ("nvidia-", "cuda-")
# the CUDA and CPU tags, whose index torch.toml's variants name (cu130, cpu); any other tag
# (rocm6.2.3, xpu) is looked up in matrix/indexes.toml
_CUDA_OR_CPU = re.compile(r"cu\d{2,3}|cpu")
VARIANT_PACKAGES = frozenset({"triton", "pytorch-triton"})
TORCH_FAMILY = frozenset({"torch", "torchvision", "torchaudio"})

# Source kinds (direct_url.json) that cannot be installed on another machine.
UNRESTORABLE_KINDS = ("editable", "local")


def in_v1_0(name: str) -> bool:
    """Whether a lock-version 1.0 writer would have recorded this distribution."""
    return name in V1_0_PACKAGES or name.startswith(_V1_0_PREFIXES)


def follows_variant(name: str) -> bool:
    """A CUDA runtime wheel (or triton) that torch's variant decides."""
    return name in VARIANT_PACKAGES or name.startswith(_VARIANT_PREFIXES)


def torch_variant(version: str | None, cuda: str | None, hip: str | None) -> str | None:
    """The wheel variant of an installed torch: its local version tag when it has one,
    else from the CUDA/HIP version it was built with, else cpu."""
    if not version:
        return None
    if "+" in version:
        return version.split("+", 1)[1]
    if cuda:
        parts = cuda.split(".")
        return "cu" + parts[0] + (parts[1] if len(parts) > 1 else "0")
    if hip:
        return "rocm" + ".".join(hip.split(".")[:2])
    return "cpu"


def torch_index(version: str | None) -> str | None:
    """The index the installed torch distribution is found on: a tagged one (2.13.0+cpu)
    only on PyTorch's index of its variant; an untagged one on the default index. The
    distribution's version, not torch.__version__: the default index's 2.14.1 says
    2.14.1+cu130 at run time."""
    if not version:
        return None
    if "+" in version:
        public, _, tag = version.partition("+")
        return _pytorch_index(tag) if _CUDA_OR_CPU.fullmatch(tag) else _listed_index(public, tag)
    return DEFAULT_INDEX


def _pytorch_index(variant: str) -> str:
    # imported here: the lock builder (and so `envlock verify`) does not load the matrix
    from envlock.matrix.advice import INDEX_URL

    return INDEX_URL + variant


def _listed_index(public: str, tag: str) -> str | None:
    """A ROCm, XPU or other tag's index only where pytorch.org's install commands name it
    for that release (matrix/indexes.toml): AMD's 2.3.0+rocm6.2.3 (repo.radeon.com) has
    none on download.pytorch.org. The table loads only for such tags."""
    from envlock.matrix.family import index_for
    from envlock.matrix.versions import Version

    index = index_for(Version.of(public), tag)
    return index.url if index is not None and index.form != "find-links" else None


@dataclass(frozen=True, kw_only=True, slots=True)
class TorchPin:
    """How to install one torch build: the exact version string and its index."""

    version: str  # "2.14.1", "2.14.1+cu126"
    variant: str
    index: str


def torch_pin_for(version: str, variant: str, default_variant: str | None) -> TorchPin:
    """The torch of `version`'s release in `variant`: untagged from the default index when
    that variant is the one the default index carries, else tagged from PyTorch's index."""
    public = version.split("+", 1)[0]
    if variant == default_variant:
        return TorchPin(version=public, variant=variant, index=DEFAULT_INDEX)
    return TorchPin(version=f"{public}+{variant}", variant=variant, index=_pytorch_index(variant))


def unrestorable_reason(kind: str) -> str:
    if kind == "editable":
        return "an editable install: its source tree is on the locking machine only"
    return "installed from a local path: the file is on the locking machine only"


def unrestorable_findings(
    sources: dict[str, LockedSource], packages: dict[str, str]
) -> list[Finding]:
    """One finding per locked distribution that an index cannot give back."""
    out = []
    for name, src in sorted(sources.items()):
        if src.kind not in UNRESTORABLE_KINDS:
            continue
        version = packages.get(name, "?")
        out.append(
            Finding(
                check_id="EL-LOCK-UNRESTORABLE",
                severity=Severity.INFO,
                field=f"sources.{name}",
                locked=src.kind,
                observed=None,
                why="restore and export install from a package index",
                message=f"{name}=={version} is {unrestorable_reason(src.kind)}",
                fix=f"publish {name} to an index (or install it from a VCS URL) and lock again",
            )
        )
    return out
