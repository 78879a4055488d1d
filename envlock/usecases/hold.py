"""Hardware-aware restore: hold the locked torch variant against a machine's driver and
GPUs with the matrix, before anything is installed; and the variant the default index
carries for the locked release (the torch-index choice restore and export make). Pure
(Lock, Facts, Matrix): a use case's decision, not the lock's, so it lives here.

The locked build runs here -> restore it. It does not -> say which variant of the
same torch release would (`--variant` restores that one, and the fields that then
differ from the lock are named). No driver here -> nothing to hold against: a CPU
machine or CI installs the locked build as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from envlock.errors import RestoreError

if TYPE_CHECKING:  # the matrix loads only for a lock that holds torch (restore's start)
    from envlock.facts import Facts
    from envlock.lock.model import Lock
    from envlock.matrix.advice import Fit
    from envlock.matrix.model import Matrix, TorchRelease
    from envlock.matrix.versions import Version


@dataclass(frozen=True, kw_only=True, slots=True)
class Hold:
    variant: str | None  # the variant to install (None: no torch in the lock)
    runs: bool | None  # whether it runs here (None: cannot tell, e.g. no driver)
    reason: str  # one line: why, for the report
    instead: str | None = None  # when it does not run: a variant of the release that does
    default_variant: str | None = None  # the one the default index carries for the release


def hold_variant(
    lock: Lock,
    host: Facts | None,
    matrix: Matrix | Callable[[], Matrix],
    *,
    requested: str | None = None,
) -> Hold:
    """host: facts of the machine to hold a CUDA build against (only read for one);
    matrix: the matrix, or what loads it (called only for a lock that holds torch)."""
    torch = lock.torch
    if torch is None or not torch.version or not torch.variant:
        if requested is not None:
            raise RestoreError(f"--variant {requested}: the lock holds no torch")
        return Hold(variant=None, runs=None, reason="the lock holds no torch")
    matrix = matrix() if callable(matrix) else matrix
    release = _release(matrix, torch.version)
    default = release.default_variant if release else None
    if requested is not None:
        _check_requested(requested, torch.version, release)
    variant = requested or torch.variant
    unheld = _not_held(torch.version, variant, release, host)
    if unheld is not None:
        runs, reason = unheld
        return Hold(variant=variant, runs=runs, reason=reason, default_variant=default)
    assert release is not None and host is not None  # _not_held answered for both
    return _held(torch.version, variant, release, host, matrix, default)


def _not_held(
    locked: str, variant: str, release: TorchRelease | None, host: Facts | None
) -> tuple[bool | None, str] | None:
    """(runs, reason) when the variant is not held against the machine: not a CUDA
    build, not in the matrix, no facts of a machine, or no driver on it."""
    if not variant.startswith("cu"):
        runs = True if variant == "cpu" else None
        return runs, f"torch {locked} ({variant}) needs no NVIDIA driver"
    if release is None:
        return None, (
            f"torch {locked} is not in the compatibility matrix: not held against this machine"
        )
    if host is None:
        return None, f"the {variant} build was not held against a machine (no facts given)"
    from envlock.matrix.versions import Version

    if Version.of(host.driver.version) is None:
        return None, (
            f"no NVIDIA driver observed here ({host.driver.unavailable or 'none'}): "
            f"the {variant} build is installed but cannot run CUDA on this machine"
        )
    return None


def _held(
    locked: str,
    variant: str,
    release: TorchRelease,
    host: Facts,
    matrix: Matrix,
    default: str | None,
) -> Hold:
    """The matrix's verdict on the variant for this machine's driver, GPUs and Python."""
    from envlock.matrix.advice import best, evaluate
    from envlock.matrix.versions import Version

    driver = Version.of(host.driver.version)
    assert driver is not None  # _not_held answered for a machine without one
    capabilities = _capabilities(host)
    python = Version.of(host.system.python.version) if host.system.python else None
    fits = [
        f
        for f in evaluate(matrix, capabilities=capabilities, driver=driver, python=python)
        if f.release.release == release.release
    ]
    fit = next((f for f in fits if f.variant.name == variant), None)
    if fit is None:  # not a variant the matrix lists for this release
        return Hold(
            variant=variant,
            runs=None,
            reason=f"{variant} is not in the matrix for torch {release.release}: not held "
            "against this machine",
            default_variant=default,
        )
    if fit.runs is False:
        other = best([f for f in fits if f.variant.name != variant])
        return Hold(
            variant=variant,
            runs=False,
            reason=f"torch {locked} ({variant}) cannot run here: {_why(fit)}",
            instead=other.variant.name if other is not None else None,
            default_variant=default,
        )
    return Hold(
        variant=variant,
        runs=fit.runs,
        reason=_runs_here(f"torch {locked} ({variant})", fit, driver, capabilities),
        default_variant=default,
    )


def _capabilities(host: Facts) -> list[Version]:
    """The compute capabilities of the machine's GPUs, each once, lowest first."""
    from envlock.matrix.versions import Version

    return sorted(
        {cc for g in host.driver.gpus or [] if (cc := Version.of(g.compute_capability)) is not None}
    )


def _runs_here(build: str, fit: Fit, driver: Version, capabilities: list[Version]) -> str:
    """'torch 2.7.1+cu126 (cu126) runs here (driver 570.86, compute capability 9.0)', and
    the matrix's first caveat."""
    return (
        f"{build} "
        + ("runs here" if fit.runs else "may run here")
        + f" (driver {driver}"
        + (f", compute capability {', '.join(map(str, capabilities))}" if capabilities else "")
        + ")"
        + (f"; {fit.caveats[0]}" if fit.caveats else "")
    )


def default_variant(lock: Lock, matrix: Matrix, *, requested: str | None = None) -> str | None:
    """The variant the default index carries for the locked torch release (None when the
    release is not in the matrix); checks a requested variant against the release."""
    torch = lock.torch
    if torch is None or not torch.version:
        if requested is not None:
            raise RestoreError(f"--variant {requested}: the lock holds no torch")
        return None
    release = _release(matrix, torch.version)
    if requested is not None:
        _check_requested(requested, torch.version, release)
    return release.default_variant if release else None


def _release(matrix: Matrix, locked: str) -> TorchRelease | None:
    """The matrix's release of a locked torch version ("2.7.1+cu126" -> 2.7)."""
    from envlock.matrix.versions import Version

    version = Version.of(locked.split("+", 1)[0])
    return matrix.torch_release(version) if version is not None else None


def _check_requested(requested: str, locked: str, release: TorchRelease | None) -> None:
    known = ["cpu", *(v.name for v in release.variants)] if release else ["cpu"]
    if requested not in known:
        raise RestoreError(
            f"--variant {requested}: not a variant of torch {locked.split('+', 1)[0]} "
            f"(known: {', '.join(known)})"
        )


def _why(fit: Fit) -> str:
    return "; ".join(fit.problems) or "the matrix says it does not"
