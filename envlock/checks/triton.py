"""EL-TRITON-DRIVER-TOO-OLD: the driver cannot load the kernels Triton builds.

torch's Linux wheels (2.0 on) pin a Triton release, and Triton assembles every kernel with
the ptxas bundled in its own wheel (matrix/triton.toml: CUDA 12.0-12.9 for Triton 2.0-3.8,
CUDA 13 for Blackwell GPUs from Triton 3.7), not with torch's CUDA. A CUDA-M cubin loads
only on a driver that runs CUDA M (drivers.toml's minor-version floor of M), so a cu118
torch on an R470-R520 driver runs its own kernels through minor-version compatibility while
every Triton kernel fails: 'Triton Error [CUDA]: device kernel image is invalid' (sources TE:
triton-lang/triton#3001, vllm-project/vllm#5713; corpus vllm-6099 and vllm-18580).

Severity, from that evidence: an ERROR where Triton kernels are certain to run, i.e. an
installed Triton beside a package that launches Triton kernels on every run: vLLM from 0.8
(its V1 engine, the default from 0.8.0, compiles every model with torch.compile: "In vLLM's
V1 architecture, torch.compile is enabled by default", docs.vllm.ai v0.8.3 design/v1/
torch_compile; vllm-18580, 0.8.5), and the libraries whose kernels are all Triton (Unsloth,
Liger Kernel, flash-linear-attention). Otherwise a WARNING: eager torch never calls Triton;
torch.compile, a user's own Triton kernel, or a feature of an older vLLM that is Triton
(prefix caching in vllm-6099's 0.4.2, fused MoE in vllm#5713, where a non-MoE model ran on
the same machine: 'We are using the exact same environment configuration to run
phind-codellama-34b and that runs without any issues') fails, and the report cannot say
whether the job uses one. It is not raised where torch's own CUDA is of the same major as the
assembler (EL-DRIVER-TOO-OLD then says the driver runs nothing), nor on GPUs below compute
capability 7.0 (inductor refuses them, source TI), nor when no driver new enough exists for
these GPUs (none below 7.0 lacks one today; that would be EL-GPU-UNSERVABLE's to say).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from envlock.checks.context import CheckContext
from envlock.checks.registry import check
from envlock.findings import Finding, Severity
from envlock.matrix import Matrix, Version
from envlock.matrix.family import load_family
from envlock.matrix.triton import TritonRelease, load_triton

# Packages that launch Triton kernels on every run (normalized names), from the release
# given (None: every release): see the docstring.
TRITON_KERNEL_PACKAGES: dict[str, Version | None] = {
    "vllm": Version((0, 8)),
    "unsloth": None,
    "liger-kernel": None,
    "flash-linear-attention": None,
    "fla-core": None,
}
_TRITON_DISTS = ("triton", "pytorch-triton")


@dataclass(frozen=True, kw_only=True, slots=True)
class _Triton:
    version: Version  # installed, or the series torch pins
    row: TritonRelease
    installed: bool  # seen in the package list (else implied by torch's pin)


def _triton(ctx: CheckContext) -> _Triton | None:
    """The installed Triton; where the package list was not observed, the one torch pins."""
    packages = ctx.facts.packages
    for name in _TRITON_DISTS:
        version = Version.of(packages.distributions.get(name))
        row = load_triton().release(version) if version is not None else None
        if version is not None and row is not None:
            return _Triton(version=version, row=row, installed=True)
    if packages.distributions or packages.unavailable is None:
        return None  # the list was read and holds no (known) Triton
    tv = ctx.torch_version
    if tv is None or ctx.torch_cuda is None or ctx.torch_not_official is not None:
        return None  # only an official CUDA wheel's pin is known
    family = load_family().row_for_torch(tv)
    series = family.members.get("triton") if family is not None else None
    row = load_triton().release(series) if series is not None else None
    if series is None or row is None:
        return None
    return _Triton(version=series, row=row, installed=False)


def _assembler(ctx: CheckContext, row: TritonRelease) -> tuple[Version, list[Version]] | None:
    """The newest CUDA of the assemblers that build for these GPUs, and the GPUs'
    capabilities; None when no GPU here runs Triton kernels."""
    gpus = ctx.gpus()
    if not gpus:
        return None
    caps = [g.capability for g in gpus]
    floor = load_triton().min_capability
    runs = [cc for cc in caps if cc is None or cc >= floor]
    if not runs:
        return None  # inductor refuses every GPU here (TI)
    ptxas = max((row.ptxas_for(cc) for cc in runs), key=lambda v: v.major)
    return ptxas, [cc for cc in caps if cc is not None]


def _driver_too_old(ctx: CheckContext, need: Version, major: int) -> bool | None:
    """Whether the driver (or a forward-compatibility libcuda) runs no CUDA `major`;
    None when the facts do not say."""
    lib = ctx.facts.cuda.libcuda
    compat = Version.of(lib.driver_version) if lib is not None and lib.compat else None
    if compat is not None and compat.major >= major:
        return False
    driver = ctx.driver_version
    if driver is not None:
        return driver < need
    cuda = ctx.driver_cuda
    return cuda.major < major if cuda is not None else None


def _kernel_packages(ctx: CheckContext) -> list[str]:
    """The installed packages that launch Triton kernels on every run."""
    dists = ctx.facts.packages.distributions
    found = []
    for name, since in TRITON_KERNEL_PACKAGES.items():
        version = Version.of(dists.get(name))
        if version is not None and (since is None or version >= since):
            found.append(f"{name} {dists[name]}")
    return sorted(found)


@check("EL-TRITON-DRIVER-TOO-OLD")
def triton_driver_too_old(ctx: CheckContext) -> Iterator[Finding]:
    triton = _triton(ctx)
    found = _triton_need(ctx, triton)
    if triton is not None and found is not None:
        yield _finding(ctx, triton, *found)


def triton_driver_need(ctx: CheckContext) -> Version | None:
    """The driver Triton's kernels need where this driver loads none of them (the
    finding above), so that another driver fix names one driver for both."""
    found = _triton_need(ctx, _triton(ctx))
    return found[1] if found is not None else None


def _triton_need(ctx: CheckContext, triton: _Triton | None) -> tuple[Version, Version] | None:
    """(ptxas, the driver its cubins need) where this driver is too old for them."""
    found = _assembler(ctx, triton.row) if triton is not None else None
    if found is None:
        return None
    ptxas, caps = found
    torch_cuda = ctx.torch_cuda
    if torch_cuda is not None and torch_cuda.major >= ptxas.major:
        return None  # torch's own CUDA needs that driver too: EL-DRIVER-TOO-OLD's to say
    need = ctx.matrix.minor_floor(ptxas.major, ctx.os_name)
    if need is None or not _driver_too_old(ctx, need, ptxas.major):
        return None
    if not ctx.matrix.driver_exists_for(need, caps, ctx.os_name):
        return None  # never an impossible fix
    return ptxas, need


def _finding(ctx: CheckContext, triton: _Triton, ptxas: Version, need: Version) -> Finding:
    kernels = _kernel_packages(ctx) if triton.installed else []
    driver = ctx.driver_version
    have = f"driver {driver}" if driver is not None else "this driver"
    if ctx.driver.cuda_version:
        have += f" (CUDA {ctx.driver.cuda_version})"
    which = (
        f"Triton {triton.version}"
        if triton.installed
        else f"the Triton {triton.version} torch {ctx.facts.torch.version} pins"
    )
    runs = (
        f"{', '.join(kernels)} run{'s' if len(kernels) == 1 else ''} Triton kernels on every launch"
        if kernels
        else "torch.compile (inductor) and any Triton kernel fail"
    )
    torch_part = f"torch's own CUDA {ctx.facts.torch.cuda} kernels" if ctx.torch_cuda else "torch"
    return Finding(
        check_id="EL-TRITON-DRIVER-TOO-OLD",
        severity=Severity.ERROR if kernels else Severity.WARNING,
        message=(
            f"{which} assembles its kernels with its bundled ptxas from CUDA {ptxas}, whose "
            f"cubins need a CUDA {ptxas.major} driver (>= {need}); {have} cannot load them "
            f"('Triton Error [CUDA]: device kernel image is invalid') though {torch_part} "
            f"run on it: {runs}"
        ),
        fix=(
            f"upgrade the NVIDIA driver to >= {need} (any CUDA {ptxas.major} driver loads "
            f"the kernels of Triton {triton.row.release}'s ptxas {ptxas}); torch's "
            "build can stay"
        ),
        evidence={
            "triton.version": str(triton.version),
            "triton.from": "installed" if triton.installed else "torch's pin",
            "triton.ptxas": str(ptxas),
            "driver.version": ctx.driver.version,
            "driver.cuda_version": ctx.driver.cuda_version,
            "torch.version": ctx.facts.torch.version,
            "torch.cuda": ctx.facts.torch.cuda,
            "needed_driver": str(need),
            "packages.triton_kernels": kernels,
            "fix.roads": [{"driver_at_least": str(need)}],
        },
    )


def kernels_certain(ctx: CheckContext) -> bool:
    """Whether an installed package launches Triton kernels on every run (see above)."""
    return bool(_kernel_packages(ctx))


def triton_loads(
    matrix: Matrix, torch: Version, caps: list[Version], driver: Version | None, os_name: str
) -> bool:
    """Whether the kernels of the Triton torch `torch` pins load on `driver` for these GPUs
    (True where the matrix cannot tell: no pin, no row, no driver, no floor)."""
    family = load_family().row_for_torch(torch)
    series = family.members.get("triton") if family is not None else None
    row = load_triton().release(series) if series is not None else None
    if row is None or driver is None:
        return True
    floor = load_triton().min_capability
    runs: list[Version | None] = [cc for cc in caps if cc >= floor]
    if not caps:
        runs = [None]  # GPUs not known: the first assembler's
    needs = [matrix.minor_floor(row.ptxas_for(cc).major, os_name) for cc in runs]
    return all(need is None or driver >= need for need in needs)
