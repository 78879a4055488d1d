"""Checks about CUDA user-space libraries: cuDNN, NCCL, nvidia-* wheels, nvcc, loader paths."""

from __future__ import annotations

import re
from collections.abc import Iterator

from envlock.checks.context import CheckContext
from envlock.checks.cudnn import cudnn_in_use as _cudnn_in_use
from envlock.checks.cudnn import loaded as _loaded
from envlock.checks.cudnn import runtime_cudnn as _runtime_cudnn
from envlock.checks.driver import driver_fix_build
from envlock.checks.gpu import without_kernels
from envlock.checks.hints import roads, wheel_hint
from envlock.checks.mixedwheels import mixed_wheels
from envlock.checks.registry import check
from envlock.findings import Finding, Severity
from envlock.matrix import Version, variant_cuda
from envlock.pasted.cppext import BUILD_REFUSED, BUILDS_HERE
from envlock.pasted.torch_warnings import TORCH_CUDNN_COMPILED
from envlock.probe.libnames import CUDA_LIBRARY_PREFIXES, DRIVER_LIBRARY_PREFIXES

# Libraries the nvidia-* wheels ship and torch loads: all but the driver's own.
WHEEL_LIBRARY_PREFIXES = tuple(p for p in CUDA_LIBRARY_PREFIXES if p not in DRIVER_LIBRARY_PREFIXES)
_WHEEL_DIR = re.compile(r"/(site|dist)-packages/nvidia/")


def _from_wheel(path: str) -> bool:
    return bool(_WHEEL_DIR.search(path))


def _wheel(ctx: CheckContext, prefix: str) -> list[tuple[str, str]]:
    """(name, version) of installed distributions named prefix*, from wheels and packages."""
    found = {w.name: w.version for w in ctx.facts.cuda.wheels if w.name.startswith(prefix)}
    for name, version in ctx.facts.packages.distributions.items():
        if name.startswith(prefix):
            found.setdefault(name, version)
    return sorted(found.items())


@check("EL-CUDNN-INCOMPATIBLE")
def cudnn_incompatible(ctx: CheckContext) -> Iterator[Finding]:
    variant = ctx.torch_variant()
    compiled, compiled_from = (variant.cudnn if variant else None), "matrix"
    if compiled is None:  # torch's own message states it where the paste names no build
        compiled, compiled_from = stated_compiled_cudnn(ctx.facts.meta.notes), "torch's message"
    runtime, origin = _runtime_cudnn(ctx)
    if compiled is None or runtime is None:
        return
    # torch's own rule: same major, runtime minor >= compile minor
    if runtime.major == compiled.major and runtime.minor >= compiled.minor:
        return
    version = ctx.facts.torch.version
    yield Finding(
        check_id="EL-CUDNN-INCOMPATIBLE",
        severity=Severity.ERROR,
        message=(
            (f"torch {version}" if version else "the installed torch (its version not given)")
            + f" was built against cuDNN {compiled} but cuDNN {runtime} is loaded: torch raises "
            "'cuDNN version incompatibility' at the first cuDNN call"
        ),
        fix=_cudnn_fix(compiled, compiled_from),
        evidence={
            "torch.version": version,
            f"cudnn_compiled ({compiled_from})": str(compiled),
            "cudnn_runtime": str(runtime),
            "cudnn_runtime_from": origin,
            "loaded": [lib.path for lib in _loaded(ctx, "libcudnn")],
        },
    )


def stated_compiled_cudnn(notes: list[str]) -> Version | None:
    """The cuDNN torch's own 'cuDNN version incompatibility' says it was compiled against,
    by the note envlock/pasted/torch_warnings.py left ("8.5.0"), or None."""
    for note in notes:
        if note.startswith(TORCH_CUDNN_COMPILED):
            return Version.of(note[len(TORCH_CUDNN_COMPILED) :].split(" ", 1)[0])
    return None


def _cudnn_fix(compiled: Version, compiled_from: str) -> str:
    """The cuDNN to load: the wheel's major (the matrix's build), or the release torch's own
    message names and any later minor of its major (torch's rule)."""
    if compiled_from == "matrix":
        return (
            f"load the cuDNN {compiled.major}.x that torch's wheel depends on: remove other "
            "cuDNN directories from LD_LIBRARY_PATH, or pip install the matching nvidia-cudnn "
            "wheel"
        )
    return (
        f"load cuDNN {compiled} or a later {compiled.major}.x, the one torch was built against: "
        "remove the directory of the older cuDNN from LD_LIBRARY_PATH (PATH on Windows) so "
        f"torch loads the cuDNN it was installed with, or install cuDNN {compiled} there"
    )


@check("EL-CUDNN-SHADOWED")
def cudnn_shadowed(ctx: CheckContext) -> Iterator[Finding]:
    wheels = _wheel(ctx, "nvidia-cudnn")
    if not wheels:
        return
    outside = [lib.path for lib in _loaded(ctx, "libcudnn") if not _from_wheel(lib.path)]
    runtime, origin = _runtime_cudnn(ctx)
    wheel_versions = [w for _, v in wheels if (w := Version.of(v)) is not None]
    differs = (
        runtime is not None
        and bool(wheel_versions)
        and all(runtime.truncate(3) != w.truncate(3) for w in wheel_versions)
    )
    if not outside and not differs:
        return
    yield Finding(
        check_id="EL-CUDNN-SHADOWED",
        severity=Severity.WARNING,
        message=(
            "torch loads a cuDNN that is not the installed "
            + ", ".join(f"{n} {v}" for n, v in wheels)
            + (f" (loaded {runtime})" if runtime else "")
            + (f" from {', '.join(outside)}" if outside else "")
        ),
        fix="remove the directory of the other cuDNN from LD_LIBRARY_PATH (or ld.so.conf) so "
        "torch loads the wheel's copy",
        evidence={
            "wheels": dict(wheels),
            "cudnn_runtime": str(runtime) if runtime else None,
            "cudnn_runtime_from": origin,
            "loaded_outside_wheels": outside,
        },
    )


@check("EL-CUDNN-GPU-UNSUPPORTED")
def cudnn_gpu_unsupported(ctx: CheckContext) -> Iterator[Finding]:
    cudnn = _cudnn_in_use(ctx)
    entry = ctx.matrix.cudnn_range(cudnn) if cudnn else None
    if cudnn is None or entry is None:
        return
    # a GPU without kernels in this build: EL-ARCH-UNSUPPORTED (or EL-GPU-UNSERVABLE) is
    # the cause and says the cuDNN side too, one finding with one fix (pytorch#150733)
    gone = without_kernels(ctx)
    bad = [
        g
        for g in ctx.gpus()
        if g.capability and not entry.supports_capability(g.capability) and g.index not in gone
    ]
    if not bad:
        return
    hint = wheel_hint(ctx)
    yield Finding(
        check_id="EL-CUDNN-GPU-UNSUPPORTED",
        severity=Severity.ERROR,
        message=(
            f"cuDNN {cudnn} supports compute capability {entry.capability_min or '?'}"
            f"-{entry.capability_max or 'newest'}; GPU(s) "
            + ", ".join(f"{g.index}: {g.name} ({g.capability})" for g in bad)
            + " are outside it: convolutions and attention through cuDNN fail"
        ),
        fix=(
            f"install a torch build whose cuDNN supports these GPUs and that has their "
            f"kernels: {hint}"
            if hint
            else "no official torch build pairs a cuDNN for these GPUs with their kernels: "
            "disable cuDNN (torch.backends.cudnn.enabled = False)"
        ),
        evidence={
            "cudnn": str(cudnn),
            "matrix.cudnn_range": f"{entry.min}-{entry.max or ''}",
            "gpus": {str(g.index): str(g.capability) for g in bad},
            "fix.roads": roads(ctx),
        },
    )


@check("EL-LD-LIBRARY-PATH-SHADOW")
def ld_library_path_shadow(ctx: CheckContext) -> Iterator[Finding]:
    """Judged from evidence: a copy torch really loaded from LD_LIBRARY_PATH is a warning;
    copies that sit there while torch loaded every library from its wheels (torch's
    libraries carry DT_RPATH, searched before LD_LIBRARY_PATH) are information only."""
    if ctx.torch_cuda is None or not ctx.facts.cuda.wheels:
        return
    shadowing = _shadowing_dirs(ctx)
    if not shadowing:
        return
    live = ctx.facts.torch.live
    loaded = live.loaded_libraries if live else []
    loaded_from = [
        lib.path
        for lib in loaded
        if any(lib.path.startswith(p.rstrip("/") + "/") for p in shadowing)
    ]
    where = "; ".join(
        f"{p} ({', '.join(libs[:4])}{', ...' if len(libs) > 4 else ''})"
        for p, libs in shadowing.items()
    )
    severity, message = _shadow_verdict(ctx, where, loaded_from, bool(loaded))
    yield Finding(
        check_id="EL-LD-LIBRARY-PATH-SHADOW",
        severity=severity,
        message=message,
        fix=(
            "remove "
            + ", ".join(shadowing)
            + " from LD_LIBRARY_PATH for this job (the wheels need no LD_LIBRARY_PATH)"
            if severity is not Severity.INFO
            else "nothing to do for torch; unset LD_LIBRARY_PATH for the job if other "
            "libraries should come from the wheels too"
        ),
        evidence={
            "cuda.ld_library_path": shadowing,
            "loaded_from_there": loaded_from,
            "torch_live_libraries_seen": len(loaded),
            "torch.lib_search_path": ctx.facts.torch.lib_search_path,
        },
    )


def _shadowing_dirs(ctx: CheckContext) -> dict[str, list[str]]:
    """LD_LIBRARY_PATH directories outside the wheels -> the wheels' libraries they hold."""
    shadowing = {
        d.path: [lib for lib in d.libraries if lib.startswith(WHEEL_LIBRARY_PREFIXES)]
        for d in ctx.facts.cuda.ld_library_path
        if not _from_wheel(d.path + "/")
    }
    return {p: libs for p, libs in shadowing.items() if libs}


_SHADOW_HARMLESS_LOADED = (
    "LD_LIBRARY_PATH holds CUDA libraries ({where}), but torch loaded every CUDA "
    "library from its wheels (torch's own RPATH is searched first): harmless for "
    "torch; programs and extensions built against that directory use its copies"
)
_SHADOW_HARMLESS_RPATH = (
    "LD_LIBRARY_PATH holds CUDA libraries ({where}), but libtorch_cuda.so carries "
    "DT_RPATH to its wheels' directories, which the loader searches before "
    "LD_LIBRARY_PATH: torch's own dependencies come from the wheels (torch's live "
    "facts, which would show every loaded copy, are missing)"
)
_SHADOW_CONSEQUENCE = (
    "a copy of another version causes 'undefined symbol' errors "
    "(e.g. __nvJitLinkComplete) and cuDNN version errors"
)


def _shadow_verdict(
    ctx: CheckContext, where: str, loaded_from: list[str], saw_loaded: bool
) -> tuple[Severity, str]:
    """How bad the shadowing copies are, from the best evidence there is: the libraries
    torch loaded, else libtorch_cuda.so's search path."""
    if loaded_from:
        return Severity.WARNING, (
            f"torch loaded {', '.join(loaded_from)} from LD_LIBRARY_PATH, not the copies its "
            f"nvidia-* wheels ship ({where}): {_SHADOW_CONSEQUENCE}"
        )
    if saw_loaded:
        return Severity.INFO, _SHADOW_HARMLESS_LOADED.format(where=where)
    search = ctx.facts.torch.lib_search_path
    if search == "rpath":
        return Severity.INFO, _SHADOW_HARMLESS_RPATH.format(where=where)
    return Severity.WARNING, (
        f"LD_LIBRARY_PATH holds CUDA libraries ({where}) ahead of the wheels' copies"
        + (
            " (libtorch_cuda.so uses DT_RUNPATH, searched after LD_LIBRARY_PATH)"
            if search == "runpath"
            else " (libtorch_cuda.so's search path and torch's live facts are unknown)"
        )
        + f": {_SHADOW_CONSEQUENCE}"
    )


@check("EL-WHEELS-MIXED-CUDA")
def wheels_mixed_cuda(ctx: CheckContext) -> Iterator[Finding]:
    """nvidia-* wheels of several CUDA majors (checks/mixedwheels.py)."""
    finding = mixed_wheels(ctx)
    if finding is not None:
        yield finding


@check("EL-NCCL-MULTIPLE")
def nccl_multiple(ctx: CheckContext) -> Iterator[Finding]:
    wheels = _wheel(ctx, "nvidia-nccl")
    live = ctx.facts.torch.live
    loaded = Version.of(live.nccl_version) if live else None
    problems: list[str] = []
    if len(wheels) > 1:
        problems.append(
            "several NCCL wheels are installed: " + ", ".join(f"{n} {v}" for n, v in wheels)
        )
    wheel_v = Version.of(wheels[0][1]) if len(wheels) == 1 else None
    if wheel_v is not None and loaded is not None and loaded.truncate(3) != wheel_v.truncate(3):
        problems.append(
            f"torch uses NCCL {loaded} but the installed wheel is {wheels[0][0]} {wheels[0][1]}"
        )
    if not problems:
        return
    yield Finding(
        check_id="EL-NCCL-MULTIPLE",
        severity=Severity.ERROR,
        message="; ".join(problems)
        + ": torch may bind the wrong one ('undefined symbol: ncclCommRegister', hangs)",
        fix="keep one nvidia-nccl wheel, the one torch depends on (pip uninstall the others), "
        "and no other libnccl on LD_LIBRARY_PATH",
        evidence={
            "wheels": dict(wheels),
            "torch.live.nccl_version": live.nccl_version if live else None,
        },
    )


@check("EL-NVCC-MISMATCH")
def nvcc_mismatch(ctx: CheckContext) -> Iterator[Finding]:
    toolkit = ctx.facts.cuda.toolkit
    nvcc = Version.of(toolkit.nvcc_version) if toolkit else None
    torch_cuda = ctx.torch_cuda
    if toolkit is None or nvcc is None or torch_cuda is None:
        return
    # the paste shows the build refused (torch 1.x refused a minor difference too)
    refused = BUILD_REFUSED in ctx.facts.meta.notes and nvcc.parts[:2] != torch_cuda.parts[:2]
    if nvcc.major == torch_cuda.major and not refused:
        return
    # torch runs on its own CUDA runtime: nvcc matters where extensions are built here
    built = sorted(n for n, src in ctx.facts.packages.sources.items() if src.kind != "url")
    yield Finding(
        check_id="EL-NVCC-MISMATCH",
        severity=_nvcc_severity(ctx, refused=refused, built=bool(built)),
        message=(
            f"nvcc{f' at {toolkit.nvcc_path}' if toolkit.nvcc_path else ''} is CUDA {nvcc} "
            f"but torch is built with CUDA {torch_cuda}: "
            + _nvcc_why(ctx, refused, built, torch_cuda)
            + "building CUDA extensions (flash-attn, apex, custom ops) against it fails with "
            "'The detected CUDA version mismatches the version that was used to compile PyTorch'"
        ),
        fix=_toolkit_fix(ctx, nvcc, torch_cuda),
        evidence={
            "cuda.toolkit.nvcc_version": toolkit.nvcc_version,
            "cuda.toolkit.nvcc_path": toolkit.nvcc_path,
            "cuda.toolkit.cuda_home": toolkit.cuda_home,
            "torch.cuda": ctx.facts.torch.cuda,
        },
    )


def _nvcc_severity(ctx: CheckContext, *, refused: bool, built: bool) -> Severity:
    """An error where the paste shows the build refused for it (the build failed: what the
    report is about); a warning where extensions are built here; else information."""
    if refused:
        return Severity.ERROR
    if built or BUILDS_HERE in ctx.facts.meta.notes:
        return Severity.WARNING
    return Severity.INFO


def _nvcc_why(ctx: CheckContext, refused: bool, built: list[str], torch_cuda: Version) -> str:
    if refused:
        return "the paste shows an extension build refused for it; "
    if built:
        return f"{', '.join(built)} were built here from source; "
    if BUILDS_HERE in ctx.facts.meta.notes:
        return "ColossalAI builds its CUDA kernels here at run time; "
    return (
        f"torch runs on its own CUDA {torch_cuda} runtime, so this matters only "
        "when building CUDA extensions: "
    )


def _toolkit_fix(ctx: CheckContext, nvcc: Version, torch_cuda: Version) -> str:
    """The toolkit for the torch the machine will have: where the driver cannot run torch's
    CUDA and its fix installs another build first, that build's CUDA (a toolkit of torch's
    own major would need a driver upgrade too)."""
    plain = (
        f"point CUDA_HOME (and PATH) at a CUDA {torch_cuda.major}.x toolkit before building "
        "extensions, or install prebuilt wheels"
    )
    road = driver_fix_build(ctx)
    cuda = variant_cuda(road["variant"]) if road else None
    if road is None or cuda is None:
        return plain
    build = f"torch {road['torch']} {road['variant']}"
    other = f"with a driver upgrade instead (torch stays CUDA {torch_cuda}): {plain}"
    if cuda.major == nvcc.major:
        return (
            f"keep this nvcc {nvcc} for the build EL-DRIVER-TOO-OLD's fix installs first "
            f"({build}, CUDA {cuda}, the same major): it builds extensions for it; {other}"
        )
    return (
        f"point CUDA_HOME (and PATH) at a CUDA {cuda.major}.x toolkit, the CUDA of the build "
        f"EL-DRIVER-TOO-OLD's fix installs first ({build}), before building extensions; {other}"
    )
