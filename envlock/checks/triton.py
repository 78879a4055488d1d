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
from envlock.checks.gpu import gpu_line
from envlock.checks.registry import check
from envlock.findings import Finding, Severity
from envlock.matrix import Matrix, Version
from envlock.matrix.family import load_family
from envlock.matrix.triton import TritonRelease, load_triton
from envlock.pasted.tritonmsg import fp8_refused, triton_refusals

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


# ------------------------------------------------------------------ Triton's GPU floors
# Triton's NVIDIA backend compiles the e4m3 fp8 format (torch.float8_e4m3fn, its fp8e4nv) only
# for GPUs of compute capability 8.9 and up (third_party/nvidia/backend/compiler.py:
# "if capability >= 89: supported_fp8_dtypes.add('fp8e4nv')", Triton 3.0 on; Triton 2.2-3.0's
# "fp8e4nv data type is not supported on CUDA arch < 89"); e5m2 (fp8e5) it compiles for all.
FP8E4NV_MIN = Version((8, 9))


@check("EL-TRITON-ARCH-UNSUPPORTED")
def triton_arch_unsupported(ctx: CheckContext) -> Iterator[Finding]:
    """torch's inductor refused a GPU below Triton's floor (pasted/tritonmsg.py), where the
    facts hold no GPU that contradicts it: torch.compile's default backend cannot run there."""
    floor = load_triton().min_capability
    refused = _refused_gpus(ctx, floor)
    if not refused:
        return
    gpus = ctx.gpus()
    if gpus and all(g.capability is not None and g.capability >= floor for g in gpus):
        return  # the GPUs listed all run Triton: another machine's refusal
    at_least = _gpu_floor(ctx, floor)
    names = ", ".join(f"{name} ({cc})" if cc else name for name, cc, _ in refused)
    eager = all(e for _, _, e in refused)
    yield Finding(
        check_id="EL-TRITON-ARCH-UNSUPPORTED",
        severity=Severity.WARNING if eager else Severity.ERROR,
        message=(
            f"torch.compile's Triton backend (inductor) refused {names}: Triton builds kernels "
            f"only for GPUs of compute capability >= {floor} (torch's 'which is too old to be "
            "supported by the triton GPU compiler'); the floor is Triton's and every torch "
            "release's inductor (2.0 to the newest) holds it, so no torch build, Triton or "
            "driver runs torch.compile's default backend on this GPU" + (_EAGER if eager else "")
        ),
        fix=(
            "run without torch.compile: remove the torch.compile(...) call or turn off the "
            "option that adds it, or set TORCH_COMPILE_DISABLE=1 in the job's environment "
            '(every torch.compile then runs eagerly); torch.compile(model, backend="aot_eager")'
            f" traces without Triton. Or run on a GPU of compute capability >= {at_least}"
            f"{_served_words(ctx, at_least, floor)}; no torch build change helps"
        ),
        evidence={
            "gpus": [f"{name}: {cc}" if cc else name for name, cc, _ in refused],
            "ran_eagerly": eager,
            "refused_by": "torch's inductor (GPUTooOldForTriton)",
            "triton.min_capability": str(floor),
            "torch.version": ctx.facts.torch.version,
            "fix.gpu_capability_at_least": str(at_least),
        },
    )


def _refused_gpus(ctx: CheckContext, floor: Version) -> list[tuple[str, str | None, bool]]:
    """(name, capability, ran eagerly) of each GPU torch's refusal names below `floor`: the
    capability the message states, else the GPU table's (which never overrides the message)."""
    out: list[tuple[str, str | None, bool]] = []
    for name, stated, eager in triton_refusals(ctx.facts.meta.notes):
        cc = Version.of(stated) if stated else None
        if cc is None:
            model = ctx.matrix.gpu_by_name(name)
            cc = model.capability if model is not None and not model.ambiguous else None
        if cc is not None and cc >= floor:
            continue  # torch refuses only a major below 7: not this message's words
        out.append((name, str(cc.truncate(2)) if cc is not None else None, eager))
    return out


# torch._dynamo logged the refusal as a warning (suppress_errors) and ran the frames eagerly
_EAGER = (
    "; torch._dynamo logged it as a warning and ran the frames eagerly (suppress_errors): "
    "the job runs, without torch.compile's speed"
)


def _gpu_floor(ctx: CheckContext, floor: Version) -> Version:
    """The lowest compute capability >= Triton's floor that the installed torch's kernels
    run (its arch list, else the official wheel's); the floor where torch's list is unknown."""
    targets = ctx.torch_targets()
    if targets is None:
        return floor
    for cap in sorted(c.sm for c in ctx.matrix.capabilities if not c.tegra):
        if cap >= floor and ctx.matrix.coverage(cap, targets.targets).runs:
            return cap
    return floor


def _served_words(ctx: CheckContext, at_least: Version, floor: Version) -> str:
    if at_least == floor:
        return ""
    return f" (torch {ctx.facts.torch.version}'s kernels start there; Triton's floor is {floor})"


@check("EL-FP8-UNSUPPORTED")
def fp8_unsupported(ctx: CheckContext) -> Iterator[Finding]:
    """Triton refused the e4m3 fp8 format on a GPU below 8.9 (pasted/tritonmsg.py), where
    the facts hold no GPU that contradicts it."""
    words = fp8_refused(ctx.facts.meta.notes)
    if words is None:
        return
    gpus = ctx.gpus()
    old = [g for g in gpus if g.capability is not None and g.capability < FP8E4NV_MIN]
    if gpus and not old and all(g.capability is not None for g in gpus):
        return  # the GPUs listed all have e4m3: another machine's refusal
    which = (
        ", ".join(f"{g.index}: {g.name} ({g.capability})" for g in old)
        if old
        else f"the GPU it ran on (below compute capability {FP8E4NV_MIN}, by the list Triton names)"
    )
    yield Finding(
        check_id="EL-FP8-UNSUPPORTED",
        severity=Severity.ERROR,
        message=(
            f"Triton refused the fp8 e4m3 format (torch.float8_e4m3fn, its fp8e4nv) on {which}"
            f" ({words}): its NVIDIA backend compiles e4m3 only for GPUs of compute capability "
            f">= {FP8E4NV_MIN} (Ada, Hopper and newer), so a kernel of the job in that format "
            "cannot run here; no torch, Triton or driver version adds it"
        ),
        fix=(
            "what this GPU runs instead: fp8 e5m2 (torch.float8_e5m2, Triton's fp8e5) where the "
            "format is the job's choice (vLLM: --kv-cache-dtype fp8_e5m2, or auto); for a "
            "checkpoint stored in fp8 e4m3 (an '-FP8' model), the same model in fp16/bf16 or "
            f"another quantization (AWQ, GPTQ); or a GPU of compute capability >= {FP8E4NV_MIN}"
        ),
        evidence={
            "gpus": [gpu_line(g) for g in old],
            "refused_by": "Triton",
            "fp8e4nv.min_capability": str(FP8E4NV_MIN),
            "fix.gpu_capability_at_least": str(FP8E4NV_MIN),
        },
    )
