"""The tables of a lock, one frozen dataclass each, with what each field says about itself
(fieldmeta.FieldMeta): `Lock` (model.py) holds them, one section each.

A field without a rule of its own takes its section's (on the Lock field that holds the
section): the torch section's rule is every torch field's that names none.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from envlock.lock.fieldmeta import V1_1, FieldMeta, about
from envlock.lock.version import LockVersion
from envlock.severity import Severity

_SAME_GPU = FieldMeta(rule="same", extra=Severity.INFO)
_LIVE = FieldMeta(rule="exact", extra=Severity.INFO, live=True, variant=True)


@dataclass(frozen=True, kw_only=True, slots=True)
class LockHeader:
    lock_version: LockVersion = field(default_factory=LockVersion.current)
    scope: str = "full"
    generated_by: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class LockMeta:
    created: str | None = None
    target: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class LockedSystem:
    os: str | None = field(
        default=None,
        metadata=about(
            FieldMeta(
                rule="same",
                severity=Severity.WARNING,
                why="another OS release can ship other system libraries",
            )
        ),
    )
    arch: str | None = field(
        default=None,
        metadata=about(FieldMeta(rule="exact", why="binary wheels are per CPU architecture")),
    )
    glibc: str | None = field(
        default=None,
        metadata=about(
            FieldMeta(
                rule="at-least",
                severity=Severity.WARNING,
                why="manylinux wheels need a glibc at least as new as the one they were locked on",
            )
        ),
    )
    python: str | None = field(  # major.minor
        default=None,
        metadata=about(
            FieldMeta(
                rule="exact",
                why="wheels (torch, numpy, extensions) are built per Python minor version",
            )
        ),
    )
    python_implementation: str | None = field(
        default=None, metadata=about(FieldMeta(rule="exact", why="a different interpreter"))
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class LockedDriver:
    version: str | None = field(
        default=None,
        metadata=about(
            FieldMeta(
                rule="at-least",
                why="an older driver may not run the locked CUDA; a newer one is fine",
            )
        ),
    )
    cuda_version: str | None = field(
        default=None,
        metadata=about(
            FieldMeta(
                rule="at-least",
                why="the driver must support the CUDA version torch was built with",
            )
        ),
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class LockedGpu:
    index: int | None = field(
        default=None, metadata=about(dataclasses.replace(_SAME_GPU, why="GPU order"))
    )
    name: str | None = field(
        default=None,
        metadata=about(
            dataclasses.replace(
                _SAME_GPU, why="another GPU model: memory, speed and numerics differ"
            )
        ),
    )
    compute_capability: str | None = field(
        default=None,
        metadata=about(
            dataclasses.replace(
                _SAME_GPU,
                why="another architecture runs other kernels: numerics and kernel coverage change",
            )
        ),
    )
    memory_mib: int | None = field(
        default=None,
        metadata=about(
            dataclasses.replace(
                _SAME_GPU,
                severity=Severity.WARNING,
                why="batch sizes tuned for this memory may not fit",
            )
        ),
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class LockedHardware:
    gpu_count: int | None = field(
        default=None,
        metadata=about(
            dataclasses.replace(
                _SAME_GPU,
                why="jobs are tuned for a GPU count (world size, batch size, device maps)",
            )
        ),
    )
    gpus: tuple[LockedGpu, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class LockedTorch:
    version: str | None = field(
        default=None,
        metadata=about(
            FieldMeta(
                variant=True,
                installs_torch=True,
                fix="pip install 'torch=={locked}' (from the index of its CUDA variant)",
            )
        ),
    )
    cuda: str | None = field(default=None, metadata=about(FieldMeta(variant=True)))
    hip: str | None = None
    git_version: str | None = None
    debug: bool | None = None
    cudnn: str | None = field(
        default=None,
        metadata=about(
            dataclasses.replace(
                _LIVE, why="cuDNN picks the conv/attention kernels: numerics and speed change"
            )
        ),
    )
    nccl: str | None = field(
        default=None,
        metadata=about(
            dataclasses.replace(
                _LIVE, why="mismatched NCCL across ranks can hang or corrupt collectives"
            )
        ),
    )
    arch_flags: tuple[str, ...] | None = field(
        default=None,
        metadata=about(
            dataclasses.replace(_LIVE, why="the GPU architectures torch ships kernels for")
        ),
    )
    # cpu, cu130, rocm6.2: from the local tag or torch.version.cuda
    variant: str | None = field(default=None, metadata=about(FieldMeta(since=V1_1, variant=True)))
    # the index this build is installed from
    index: str | None = field(default=None, metadata=about(FieldMeta(since=V1_1, variant=True)))


@dataclass(frozen=True, kw_only=True, slots=True)
class LockedCuda:
    toolkit: str | None = field(
        default=None,
        metadata=about(
            FieldMeta(
                rule="exact",
                severity=Severity.WARNING,
                extra=Severity.INFO,
                why="extensions built with nvcc must match torch's CUDA major",
            )
        ),
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class LockedImage:
    reference: str | None = field(default=None, metadata=about(FieldMeta(rule="ignore")))
    id: str | None = None
    digest: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class LockedSource:
    """Where a distribution came from when not from an index (its direct_url.json)."""

    kind: str  # url, vcs, editable, local
    url: str | None = None  # not written for editable and local installs (a local path)
    commit: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class LockedFile:
    """One distribution file that fits the locked platform, with its sha256."""

    name: str
    url: str
    sha256: str
