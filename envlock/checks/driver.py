"""Checks about the NVIDIA driver: versions, kernel module, forward compatibility, devices."""

from __future__ import annotations

from collections.abc import Iterator

from envlock.checks.accelerators import Accelerator, other_accelerator
from envlock.checks.context import CheckContext, basename
from envlock.checks.hints import build_label, build_road, install_command, pinned_by, remedy_for
from envlock.checks.minorcompat import needs_more_than_torch
from envlock.checks.registry import check
from envlock.checks.triton import triton_driver_need
from envlock.checks.wsl import FIX as WSL1_FIX
from envlock.checks.wsl import wsl1
from envlock.findings import Finding, Severity
from envlock.matrix import DriverSupport, Version, cuda_variant
from envlock.pasted.driverneed import stated_driver_need, torch_said_no_driver

# NVML brands of consumer GPUs: forward compatibility is for data-center GPUs
# and select NGC-ready RTX SKUs only (N3).
CONSUMER_BRANDS = frozenset({"geforce", "geforce_rtx", "titan", "titan_rtx"})


def _driver_evidence(ctx: CheckContext) -> dict[str, object]:
    d = ctx.driver
    return {
        "driver.version": d.version,
        "driver.cuda_version": d.cuda_version,
        "torch.version": ctx.facts.torch.version,
        "torch.cuda": ctx.facts.torch.cuda,
        "os": ctx.os_name,
    }


def _uses_forward_compat(ctx: CheckContext, torch_cuda: Version) -> bool:
    """A cuda-compat libcuda new enough for torch's CUDA is loaded (forward compatibility)."""
    lib = ctx.facts.cuda.libcuda
    if lib is None or not lib.compat:
        return False
    compat_cuda = Version.of(lib.driver_version)
    return compat_cuda is not None and compat_cuda >= torch_cuda.truncate(2)


def _build_road(
    ctx: CheckContext, *, full_only: bool = False
) -> tuple[str | None, list[dict[str, str]]]:
    """The nearest official build that runs with this driver, on these GPUs (when known),
    computed by the matrix: (pip command, roads as data)."""
    r = remedy_for(ctx, need_gpus=False, full_only=full_only)
    if r is None or r.build is None:
        return None, []
    b = r.build
    command = install_command(ctx, b.release.release, b.variant.name)
    return f"{command}  ({build_label(b)})", [
        build_road(ctx, {"torch": str(b.release.release), "variant": b.variant.name})
    ]


def _driver_road(ctx: CheckContext, full: Version | None) -> list[dict[str, str]]:
    tv, tc = ctx.torch_version, ctx.torch_cuda
    if full is None or tv is None or tc is None:
        return []
    return [
        {"driver_at_least": str(full), "torch": str(tv.truncate(2)), "variant": cuda_variant(tc)}
    ]


def _judge(ctx: CheckContext) -> tuple[DriverSupport, Version, Version | None, Version | None]:
    """(support, torch CUDA, needed full, needed minor) or UNKNOWN when facts are missing."""
    verdict = _judge_versions(ctx)
    live = ctx.facts.torch.live
    if (
        verdict[0] is DriverSupport.TOO_OLD
        and live is not None
        and live.cuda_available is True
        and ctx.facts.cuda.libcuda is None
    ):
        # torch initialised CUDA (is_available() counts devices through the driver: an
        # insufficient driver gives 0) and the libcuda it loaded was not observed (a pasted
        # report): a cuda-compat library, or a newer driver than reported, is in use
        return DriverSupport.UNKNOWN, verdict[1], None, None
    return verdict


def _judge_versions(
    ctx: CheckContext,
) -> tuple[DriverSupport, Version, Version | None, Version | None]:
    torch_cuda = ctx.torch_cuda
    driver = ctx.driver_version
    if torch_cuda is None or _uses_forward_compat(ctx, torch_cuda):
        return DriverSupport.UNKNOWN, Version((0,)), None, None
    if driver is not None:
        verdict = ctx.matrix.driver_support(driver, torch_cuda, ctx.os_name)
        if verdict.support is not DriverSupport.UNKNOWN:
            return verdict.support, torch_cuda, verdict.needed_full, verdict.needed_minor
        # a CUDA newer than the matrix knows: judge by the driver's own CUDA (NVML) below
    driver_cuda = ctx.driver_cuda
    if driver_cuda is None:
        return DriverSupport.UNKNOWN, torch_cuda, None, None
    # Only the driver's CUDA version is known: compare CUDA versions directly. The driver
    # to install still comes from the matrix when it knows torch's CUDA.
    if driver_cuda >= torch_cuda.truncate(2):
        return DriverSupport.FULL, torch_cuda, None, None
    full = ctx.matrix.toolkit_driver(torch_cuda, ctx.os_name)
    floor = ctx.matrix.minor_floor(torch_cuda.major, ctx.os_name)
    # no minor-version compatibility before CUDA 11 (no floor): 10.1 under cu102 is too old
    if driver_cuda.major == torch_cuda.major and floor is not None:
        return DriverSupport.MINOR_COMPAT, torch_cuda, full, floor
    return DriverSupport.TOO_OLD, torch_cuda, full, floor


@check("EL-DRIVER-TOO-OLD")
def driver_too_old(ctx: CheckContext) -> Iterator[Finding]:
    support, torch_cuda, full, floor = _judge(ctx)
    stated = stated_driver_need(ctx.facts, ctx.matrix, ctx.os_name)  # torch's CUDA unknown
    if stated is not None and not _all_unservable(ctx) and _driver_exists(ctx, stated.driver):
        yield stated.finding({**_driver_evidence(ctx), "fix.roads": [stated.road]})
    if support is not DriverSupport.TOO_OLD or _all_unservable(ctx):
        return  # no driver makes any build run on these GPUs: EL-GPU-UNSERVABLE says so
    driver = ctx.driver_version
    have = f"driver {driver}" if driver else f"a driver for CUDA {ctx.driver.cuda_version}"
    unknown_cuda = ctx.matrix.toolkit_driver(torch_cuda, ctx.os_name) is None
    if unknown_cuda:
        have = (
            f"driver {driver or '?'} whose own CUDA is {ctx.driver.cuda_version} (NVML); the "
            f"matrix does not know CUDA {torch_cuda}, so this is judged by CUDA versions alone"
        )
    need = _needed(full, floor, torch_cuda)
    fix, roads = _ranked_fix(ctx, full, floor, torch_cuda)
    yield Finding(
        check_id="EL-DRIVER-TOO-OLD",
        severity=Severity.ERROR,
        message=(
            f"torch {ctx.facts.torch.version} needs CUDA {torch_cuda} but this machine has {have}"
            + need
            + ": CUDA init fails ('CUDA driver version is insufficient for CUDA runtime version')"
        ),
        fix=fix,
        evidence={
            **_driver_evidence(ctx),
            "needed_minor_compat": str(floor) if floor else None,
            "needed_full": str(full) if full else None,
            "fix.roads": roads,
        },
    )


def _needed(full: Version | None, floor: Version | None, torch_cuda: Version) -> str:
    """The driver the message names: the toolkit's own (no minor floor before CUDA 11), or
    the major's floor beside it."""
    if full is not None and floor not in (None, full):
        return f" (needs >= {floor} for any CUDA {torch_cuda.major}.x, >= {full} for {torch_cuda})"
    if full is not None:
        return f" (needs >= {full})"
    return f" (needs >= {floor} for any CUDA {torch_cuda.major}.x)" if floor else ""


def _ranked_fix(
    ctx: CheckContext, full: Version | None, floor: Version | None, torch_cuda: Version
) -> tuple[str, list[dict[str, str]]]:
    """The roads by cost: another build of the same torch release first, then a driver
    upgrade (only to a driver that exists for these GPUs), then another release."""
    upgrade, driver_roads = _upgrade_fix(ctx, full, floor, torch_cuda)
    hint, build_road = _build_road(ctx) if ctx.driver_for_builds is not None else (None, [])
    if upgrade and driver_roads and (pin := pinned_by(ctx)):
        return f"{upgrade} ({pin})", driver_roads
    tv = ctx.torch_version
    same = bool(build_road) and tv is not None and build_road[0]["torch"] == str(tv.truncate(2))
    built = [f"install torch built for an older CUDA: {hint}"] if hint else []
    upgraded = [upgrade] if upgrade else []
    fixes = [*built, *upgraded] if same else [*upgraded, *built]
    roads = build_road + driver_roads if same else driver_roads + build_road
    return ("; or ".join(fixes) if fixes else _no_road(ctx, torch_cuda)), roads


def driver_fix_build(ctx: CheckContext) -> dict[str, str] | None:
    """The road EL-DRIVER-TOO-OLD's fix names first where that is another CUDA build of
    torch (not a driver upgrade): what the machine's CUDA becomes once it is followed, so
    advice about the toolkit agrees with it (espnet#5556's cu118, not torch's 12.1)."""
    support, torch_cuda, full, floor = _judge(ctx)
    if support is not DriverSupport.TOO_OLD or _all_unservable(ctx):
        return None
    _, roads = _ranked_fix(ctx, full, floor, torch_cuda)
    first = roads[0] if roads else None
    if first is None or "driver_at_least" in first or not first["variant"].startswith("cu"):
        return None
    return first


@check("EL-DRIVER-MINOR-COMPAT")
def driver_minor_compat(ctx: CheckContext) -> Iterator[Finding]:
    support, torch_cuda, full, _ = _judge(ctx)
    if support is not DriverSupport.MINOR_COMPAT:
        return
    driver = ctx.driver_version
    possible = full is None or _driver_exists(ctx, full)
    target = _with_triton(ctx, full)
    fixes = [_upgrade_words(target, full)] if possible else []
    why = needs_more_than_torch(ctx)
    if why is None and fixes:  # torch alone, on SASS: NVIDIA's supported road (a note)
        yield _minor_note(ctx, torch_cuda, full, fixes[0], possible, target)
        return
    hint, build_road = _same_release_road(ctx, driver_road=bool(fixes))
    if fixes and (pin := pinned_by(ctx)):
        hint, build_road = None, []
        fixes[0] += f" ({pin})"
    if hint:
        fixes.append(f"or install the torch variant this driver fully supports: {hint}")
    if not fixes:
        fixes = [_no_road(ctx, torch_cuda, minor_compat=True)]
    yield Finding(
        check_id="EL-DRIVER-MINOR-COMPAT",
        severity=Severity.WARNING,
        message=(
            f"driver {driver or ctx.driver.cuda_version} is older than CUDA {torch_cuda}'s own "
            f"driver{f' ({full})' if full else ''}: torch runs through minor-version "
            f"compatibility, but this driver cannot JIT-compile PTX built by CUDA "
            f"{torch_cuda}'s toolchain ('the provided PTX was compiled with an unsupported "
            f"toolchain'): kernels shipped only as PTX, in torch or an extension, fail ({why})"
        ),
        fix="; ".join(fixes),
        evidence={
            **_driver_evidence(ctx),
            "needed_full": str(full) if full else None,
            "fix.roads": (_driver_road(ctx, target) if possible else []) + build_road,
        },
    )


def _upgrade_words(target: Version | None, full: Version | None) -> str:
    if target is None:
        return "upgrade the NVIDIA driver"
    triton = " (for Triton's kernels too: EL-TRITON-DRIVER-TOO-OLD)" if target != full else ""
    return f"upgrade the NVIDIA driver to >= {target}{triton}"


def _minor_note(
    ctx: CheckContext,
    torch_cuda: Version,
    full: Version | None,
    upgrade: str,
    possible: bool,
    target: Version | None,
) -> Finding:
    return Finding(
        check_id="EL-DRIVER-MINOR-COMPAT",
        severity=Severity.INFO,
        message=(
            f"driver {ctx.driver_version or ctx.driver.cuda_version} is older than CUDA "
            f"{torch_cuda}'s own driver{f' ({full})' if full else ''}: torch runs through "
            "NVIDIA's minor-version compatibility, and its kernels for these GPUs are SASS, so "
            "nothing of torch's needs this driver's PTX JIT; an extension that ships PTX of a "
            "newer toolchain or calls newer driver APIs fails ('the provided PTX was compiled "
            "with an unsupported toolchain', 'undefined symbol: cu...')"
        ),
        fix=f"nothing to change while it runs; where an extension fails so: {upgrade}",
        evidence={
            **_driver_evidence(ctx),
            "needed_full": str(full) if full else None,
            "fix.roads": _driver_road(ctx, target) if possible else [],
        },
    )


def _with_triton(ctx: CheckContext, full: Version | None) -> Version | None:
    """The driver to name: CUDA's own, or the newer one Triton's kernels need where this
    driver loads none of them (vllm#6099: 520.61.05 for CUDA 11.8, 525.60.13 for Triton
    2.3's ptxas), so that one upgrade clears both findings."""
    triton = triton_driver_need(ctx)
    return triton if full is not None and triton is not None and triton > full else full


def _same_release_road(
    ctx: CheckContext, *, driver_road: bool
) -> tuple[str | None, list[dict[str, str]]]:
    """A build this driver fully supports, offered beside the driver upgrade only of the
    installed release: the installed build runs, so a road that moves torch to another
    release (vllm#6099's torch 2.3 to 1.12 under a vLLM that pins 2.3; a nightly to a
    release; NGC's build to PyPI's) costs more than the warning. With no driver road (a
    GPU past its last driver branch), the nearest release, as before. A vendor, source,
    nightly or conda-forge torch is not swapped for a PyPI wheel to silence a warning."""
    if ctx.driver_for_builds is None or (driver_road and ctx.torch_not_official is not None):
        return None, []
    hint, roads = _build_road(ctx, full_only=True)
    tv = ctx.torch_version
    same = bool(roads) and tv is not None and roads[0]["torch"] == str(tv.truncate(2))
    return (hint, roads) if same or not driver_road else (None, [])


def _gpu_caps(ctx: CheckContext) -> list[Version]:
    return [g.capability for g in ctx.gpus() if g.capability is not None]


def _all_unservable(ctx: CheckContext) -> bool:
    """Every GPU here is one no official build serves with any driver (no driver road)."""
    from envlock.matrix.advice import unservable

    caps = _gpu_caps(ctx)
    return bool(caps) and all(unservable(ctx.matrix, cc, ctx.os_name) for cc in caps)


def _driver_exists(ctx: CheckContext, need: Version) -> bool:
    """A driver >= `need` exists for every GPU here (none past its last branch)."""
    return ctx.matrix.driver_exists_for(need, _gpu_caps(ctx), ctx.os_name)


def _upgrade_fix(
    ctx: CheckContext, full: Version | None, floor: Version | None, torch_cuda: Version
) -> tuple[str | None, list[dict[str, str]]]:
    """The driver upgrade to offer, only where a driver that new exists for these GPUs:
    the toolkit's driver, else the CUDA major's minor-compatibility floor."""
    if full is None:
        return f"upgrade the NVIDIA driver to one whose CUDA is {torch_cuda} or newer", []
    if _driver_exists(ctx, full):
        return f"upgrade the NVIDIA driver to >= {full}", _driver_road(ctx, full)
    if floor is not None and floor != full and _driver_exists(ctx, floor):
        return (
            f"upgrade the NVIDIA driver to >= {floor} (the newest driver for these GPUs runs "
            f"CUDA {torch_cuda} only through minor-version compatibility)",
            _driver_road(ctx, floor),
        )
    return None, []


def _no_road(ctx: CheckContext, torch_cuda: Version, *, minor_compat: bool = False) -> str:
    """No driver that runs this CUDA exists for these GPUs, and no build fits: say so."""
    from envlock.matrix.advice import unservable

    if any(unservable(ctx.matrix, cc, ctx.os_name) for cc in _gpu_caps(ctx)):
        return (
            "no official torch build runs on these GPUs with any driver that exists for "
            "them: see EL-GPU-UNSERVABLE (CPU wheel, source build, or a newer GPU)"
        )
    archs = [a for cc in _gpu_caps(ctx) if (a := ctx.matrix.architecture(cc)) is not None]
    legacy = [a for a in archs if a.last_branch is not None]
    last = min(legacy, key=lambda a: a.last_branch or 0) if legacy else None
    why = (
        f"R{last.last_branch} is the last driver branch for {last.name} GPUs"
        if last is not None
        else "no newer driver for these GPUs is known"
    )
    what = "fully supports" if minor_compat else "runs"
    return (
        f"no driver that {what} CUDA {torch_cuda} exists for these GPUs ({why}): install a "
        "torch build for an older CUDA (`envlock matrix` lists those that run here), or run "
        "on a newer GPU"
    )


@check("EL-DRIVER-LIBRARY-MISMATCH")
def driver_library_mismatch(ctx: CheckContext) -> Iterator[Finding]:
    d = ctx.driver
    kernel, library = d.kernel_module_version, d.nvml_library_version
    mismatch = d.nvml_error == "NVML_ERROR_LIB_RM_VERSION_MISMATCH" or (
        kernel is not None and library is not None and kernel != library
    )
    if not mismatch:
        return
    yield Finding(
        check_id="EL-DRIVER-LIBRARY-MISMATCH",
        severity=Severity.ERROR,
        message=(
            f"kernel module {kernel or 'unknown'} but libnvidia-ml {library or 'unknown'}: "
            "'Failed to initialize NVML: Driver/library version mismatch'; CUDA fails too"
        ),
        fix="the driver was upgraded without reloading its kernel module: reboot "
        "(or stop GPU processes and `sudo rmmod nvidia_uvm nvidia_drm nvidia_modeset nvidia; "
        "sudo modprobe nvidia`)",
        evidence={
            "driver.kernel_module_version": kernel,
            "driver.nvml_library_version": library,
            "driver.nvml_error": d.nvml_error,
        },
    )


@check("EL-FORWARD-COMPAT-UNSUPPORTED")
def forward_compat_unsupported(ctx: CheckContext) -> Iterator[Finding]:
    lib = ctx.facts.cuda.libcuda
    if lib is None or not lib.compat:
        return
    consumer = [g for g in ctx.gpus() if (g.brand or "").lower() in CONSUMER_BRANDS]
    if not consumer:
        return
    yield Finding(
        check_id="EL-FORWARD-COMPAT-UNSUPPORTED",
        severity=Severity.ERROR,
        message=(
            f"libcuda is loaded from a cuda-compat package ({lib.path}) but GPU(s) "
            + ", ".join(f"{g.index}: {g.name} ({g.brand})" for g in consumer)
            + " do not support forward compatibility: CUDA init fails with error 804 "
            "'forward compatibility was attempted on non supported HW'"
        ),
        fix="remove the compat directory from LD_LIBRARY_PATH / ld.so.conf (or the cuda-compat "
        "package from the image) and upgrade the host driver instead",
        evidence={
            "cuda.libcuda.path": lib.path,
            "cuda.libcuda.compat": lib.compat,
            "cuda.libcuda.driver_version": lib.driver_version,
            "gpu.brand": {str(g.index): g.brand for g in consumer},
        },
    )


def _node_names(ctx: CheckContext) -> set[str]:
    return {basename(n) for n in ctx.facts.driver.device_nodes}


@check("EL-UVM-MISSING")
def uvm_missing(ctx: CheckContext) -> Iterator[Finding]:
    nodes = _node_names(ctx)
    gpu_nodes = sorted(n for n in nodes if n.removeprefix("nvidia").isdigit())
    if not gpu_nodes or "nvidia-uvm" in nodes:
        return
    yield Finding(
        check_id="EL-UVM-MISSING",
        severity=Severity.ERROR,
        message=(
            f"GPU device nodes ({', '.join(gpu_nodes)}) exist but /dev/nvidia-uvm does not: "
            "cuInit fails ('CUDA unknown error'); nvidia_uvm is not loaded or broke "
            "(often after suspend/resume)"
        ),
        fix="sudo modprobe nvidia_uvm (or: sudo rmmod nvidia_uvm && sudo modprobe nvidia_uvm); "
        "in a container, restart it after fixing the host",
        evidence={"driver.device_nodes": ctx.facts.driver.device_nodes},
    )


@check("EL-NO-DRIVER")
def no_driver(ctx: CheckContext) -> Iterator[Finding]:
    torch_cuda = ctx.torch_cuda
    d = ctx.driver
    if torch_cuda is None or ctx.in_container:  # torch's own word, its version not given
        yield from torch_said_no_driver(ctx.facts, _no_driver_fix(ctx))
        return
    if d.gpus or d.version or d.kernel_module_version or _node_names(ctx) or d.pci_gpus:
        return
    if d.source == "pasted" and d.gpus is None:
        return  # a pasted report that does not mention the driver: not observed, not absent
    f = ctx.facts
    other = other_accelerator(f.packages.distributions, f.torch.version, f.meta.notes)
    yield Finding(
        check_id="EL-NO-DRIVER",
        severity=Severity.WARNING,
        message=(
            f"torch {ctx.facts.torch.version} is built for CUDA {torch_cuda} but no NVIDIA driver "
            "or GPU is present: torch.cuda.is_available() is False"
            + (
                f"; this is {other.name} ({other.evidence}), whose plugin does not use CUDA"
                if other
                else " and the job runs on CPU"
            )
            + (f" ({d.unavailable})" if d.unavailable else "")
        ),
        fix=_other_accelerator_fix(ctx, other) if other else _no_driver_fix(ctx),
        evidence={
            "driver.unavailable": d.unavailable,
            "driver.device_nodes": ctx.facts.driver.device_nodes,
            "torch.cuda": ctx.facts.torch.cuda,
            "torch.build": ctx.facts.torch.build or cuda_variant(torch_cuda),
            **({"accelerator": other.name} if other else {}),
        },
    )


def _other_accelerator_fix(ctx: CheckContext, other: Accelerator) -> str:
    """A CUDA torch on another accelerator's host: its road, never an NVIDIA machine
    (the Neuron hosts of vllm#4553/#8007 were told to find one). torch-npu's road is the
    CPU build of the installed release, vLLM-Ascend's too (it is built on that build)."""
    if other.cuda_build != "cpu" or ctx.torch_version is None:
        return other.road
    cpu = install_command(ctx, ctx.torch_version.truncate(2), "cpu")
    return f"{other.road}: {cpu}"


def _no_driver_fix(ctx: CheckContext) -> str:
    """A GPU and driver (a container: started with --gpus all, which the NVIDIA Container
    Toolkit serves; a paste does not say whether it came from one), else the CPU wheel,
    but not under vLLM, whose kernels need torch's CUDA build."""
    fix = (
        "run on a machine with an NVIDIA GPU and driver (in a container: start it with "
        "--gpus all, which needs the NVIDIA Container Toolkit on the host)"
    )
    if wsl1(ctx.facts.system.kernel):  # no GPU can be there (checks/wsl.py)
        fix = WSL1_FIX.format(kernel=ctx.facts.system.kernel)
    hidden = ctx.env("NVIDIA_VISIBLE_DEVICES")
    if hidden in ("void", "none"):  # the container runtime gave it no GPU (vllm#16061)
        fix = (
            f"NVIDIA_VISIBLE_DEVICES={hidden} gave this container no GPU: start it with "
            "--gpus all (Docker) or request nvidia.com/gpu in the pod's resources "
            "(Kubernetes' device plugin sets void for a pod that asks for none)"
        )
    if "vllm" in ctx.facts.packages.distributions:
        return fix + "; vLLM needs this CUDA build of torch, so keep it"
    if ctx.torch_version is None:
        return fix
    cpu = install_command(ctx, ctx.torch_version.truncate(2), "cpu")
    return f"{fix}; for CPU-only work, the smaller CPU wheel: {cpu}"
