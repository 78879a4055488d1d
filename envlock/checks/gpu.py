"""Checks about the GPUs themselves and how torch and the OS see them."""

from __future__ import annotations

import re
from collections.abc import Iterator

from envlock.checks.archsaid import said_without_list
from envlock.checks.context import CheckContext, Gpu, Targets
from envlock.checks.cpubuild import (
    cpu_build_stated,
    cpu_build_unseen_gpus,
    cpu_fix,
    cpu_wheel,
    torch_without_cuda,
)
from envlock.checks.cudnn import cudnn_outside
from envlock.checks.hints import build_road, remedy_for, roads, wheel_hint
from envlock.checks.ptxjit import ptx_road, ptx_why
from envlock.checks.registry import check
from envlock.checks.runtime import python_first_fix, python_first_roads
from envlock.checks.samegpus import once_per_model
from envlock.findings import Finding, Severity
from envlock.matrix import Coverage, Version
from envlock.matrix.advice import Unservable, unservable
from envlock.matrix.arm import ARM_CUDA, JETSON


def gpu_line(g: Gpu) -> str:
    return f"{g.index}: {g.name} ({g.capability or '?'}, capability from {g.capability_from})"


def _gpu_evidence(g: Gpu) -> dict[str, object]:
    return {
        "gpu.index": g.index,
        "gpu.name": g.name,
        "gpu.compute_capability": str(g.capability) if g.capability else None,
        "gpu.capability_from": g.capability_from,
    }


def _coverage(ctx: CheckContext) -> Iterator[tuple[Gpu, Version, Targets, Coverage]]:
    """Each GPU of known capability and how a CUDA torch's targets serve it."""
    targets = ctx.torch_targets()
    # arch flags torch printed itself (its sm_XX warning's list) prove a CUDA build even
    # where the paste does not say which CUDA (vllm#21633, a compose log of the warning)
    live = ctx.facts.torch.live
    if targets is None or not (ctx.torch_cuda or (live is not None and live.arch_flags)):
        return
    for g in ctx.gpus():
        if g.capability is not None:
            yield g, g.capability, targets, ctx.matrix.coverage(g.capability, targets.targets)


def _unservable(ctx: CheckContext, g: Gpu) -> Unservable | None:
    return unservable(ctx.matrix, g.capability, ctx.os_name) if g.capability else None


@check("EL-GPU-UNSERVABLE")
def gpu_unservable(ctx: CheckContext) -> Iterator[Finding]:
    """A GPU no official build can serve with any driver that exists for it: its own
    finding, not a fix that cannot work (a build it has no kernels in, a driver past its
    architecture's last branch). Only for a CUDA build of torch: a CPU build is right."""
    if ctx.torch_cuda is None and ctx.torch_floor is None:  # torch's floor: a CUDA build
        return
    tv = ctx.torch_version
    cpu_road = (
        [build_road(ctx, {"torch": str(tv.truncate(2)), "variant": "cpu"})]
        if tv is not None
        else []
    )
    for g in ctx.gpus():
        u = _unservable(ctx, g)
        if u is None:
            continue
        cc = u.capability
        arch = ctx.matrix.architecture(cc)
        source_build = f"TORCH_CUDA_ARCH_LIST={cc}" + (
            f" and CUDA {u.last_cuda} (the last toolkit that compiles sm_{cc.major}{cc.minor})"
            if u.last_cuda
            else ""
        )
        yield Finding(
            check_id="EL-GPU-UNSERVABLE",
            severity=Severity.ERROR,
            message=(
                f"GPU {g.index} ({g.name}, compute capability {cc}"
                + (f", {arch.name}" if arch else "")
                + f") can run no official torch build: {u.reason}; torch warns 'PyTorch no "
                "longer supports this GPU because it is too old' and CUDA calls fail"
            ),
            fix=(
                f"run on CPU ({cpu_wheel(ctx)}), move to a newer GPU, or build torch from "
                f"source with {source_build}"
            ),
            evidence={
                **_gpu_evidence(g),
                "torch.version": ctx.facts.torch.version,
                "last_cuda": str(u.last_cuda) if u.last_cuda else None,
                "last_driver_branch": arch.last_branch if arch else None,
                "fix.roads": cpu_road,
            },
        )


def without_kernels(ctx: CheckContext) -> set[int]:
    """The GPUs (indices) the installed torch has no kernels for: EL-ARCH-UNSUPPORTED's
    and EL-GPU-UNSERVABLE's, whose fixes are what serves them."""
    flagged = (f.evidence["gpu.index"] for f in _kernel_findings(ctx))
    return {i for i in flagged if isinstance(i, int)} | {
        g.index for g in ctx.gpus() if ctx.torch_cuda is not None and _unservable(ctx, g)
    }


@check("EL-ARCH-UNSUPPORTED")
def arch_unsupported(ctx: CheckContext) -> Iterator[Finding]:
    yield from once_per_model(_kernel_findings(ctx))


def _kernel_findings(ctx: CheckContext) -> Iterator[Finding]:
    if ctx.torch_targets() is None:  # the build's arch list unknown: torch's word, if said
        for g, cc, what, arch, why in said_without_list(ctx):
            yield _arch_finding(ctx, g, cc, what, arch, why)
        return
    for g, cc, targets, cov in _coverage(ctx):
        road = ptx_road(ctx, cc, targets) if cov.sass is None and cov.ptx else None
        jit = cov.runs and (road is None or road.saves is not False)
        if jit or _unservable(ctx, g) is not None:  # EL-GPU-UNSERVABLE says it
            continue
        yield _arch_finding(
            ctx,
            g,
            cc,
            "has no kernels in",
            {"torch.arch_flags": targets.flags, "arch_flags_from": targets.origin},
            ptx_why(road, str(cov.ptx)),
        )


def _arch_finding(
    ctx: CheckContext, g: Gpu, cc: Version, what: str, arch: dict[str, object], why: str = ""
) -> Finding:
    hint = wheel_hint(ctx, own_kernels=True)
    cudnn = cudnn_outside(ctx, cc)
    return Finding(
        check_id="EL-ARCH-UNSUPPORTED",
        severity=Severity.ERROR,
        message=(
            f"GPU {g.index} ({g.name}, compute capability {cc}) {what} "
            f"{_torch_named(ctx)}: CUDA calls will fail with 'no kernel image is "
            f"available for execution on the device'{why}"
            + (f"; its {cudnn}, so cuDNN fails on it too" if cudnn else "")
        ),
        fix=_arch_fix(ctx, cc) + (f": {hint}" if hint else ""),
        evidence={
            **_gpu_evidence(g),
            "torch.version": ctx.facts.torch.version,
            **arch,
            "fix.roads": roads(ctx, own_kernels=True) or python_first_roads(ctx),
        },
    )


def _torch_named(ctx: CheckContext) -> str:
    version = ctx.facts.torch.version
    return f"torch {version}" if version else "the installed torch (its version not given)"


def _arch_fix(ctx: CheckContext, cc: Version) -> str:
    """What the road installs: a build with sm_XY's own kernels, or, where none runs here
    (a Jetson's sm_87 among the official wheels), one that runs it through PTX JIT only."""
    r = remedy_for(ctx, own_kernels=True)
    cover = r.build.coverage.get(str(cc)) if r is not None and r.build is not None else None
    if cover is not None and cover.sass is None and cover.ptx is not None:
        return (
            f"no official torch build has sm_{cc.major}{cc.minor} kernels that run here; "
            "install one that runs it through PTX JIT (slow first start, EL-ARCH-PTX-ONLY)"
        )
    if (r is None or r.build is None) and ctx.arm_machine:
        # the matrix holds the x86_64 wheels' arch lists: no official Arm build is known to
        # carry these kernels, and the x86_64 roads are not published for Arm (a Jetson Orin)
        return (
            f"no official torch build is known to carry sm_{cc.major}{cc.minor} kernels for "
            "this Arm machine: install NVIDIA's build for it (JetPack wheels on a Jetson, an "
            "NGC PyTorch container), then check torch.cuda.get_arch_list()"
        )
    first = python_first_fix(ctx, cc) if r is None or r.build is None else None
    return first or f"install a torch build that includes sm_{cc.major}{cc.minor}"


@check("EL-ARCH-PTX-ONLY")
def arch_ptx_only(ctx: CheckContext) -> Iterator[Finding]:
    yield from once_per_model(_ptx_findings(ctx))


def _ptx_findings(ctx: CheckContext) -> Iterator[Finding]:
    for g, cc, targets, cov in _coverage(ctx):
        if cov.sass is None and cov.ptx is not None and ptx_road(ctx, cc, targets).saves:
            yield Finding(
                check_id="EL-ARCH-PTX-ONLY",
                severity=Severity.WARNING,
                message=(
                    f"GPU {g.index} ({g.name}, {cc}) has no SASS in {_torch_named(ctx)}; the "
                    f"driver JIT-compiles {cov.ptx} PTX at first use (minutes of startup; "
                    "needs a driver at least as new as torch's CUDA)"
                ),
                fix="install a torch build with SASS for this GPU"
                + (f": {h}" if (h := wheel_hint(ctx)) else ""),
                evidence={
                    **_gpu_evidence(g),
                    "torch.arch_flags": targets.flags,
                    "arch_flags_from": targets.origin,
                    "fix.roads": roads(ctx),
                },
            )


@check("EL-TORCH-CPU-ONLY")
def torch_cpu_only(ctx: CheckContext) -> Iterator[Finding]:
    if not ctx.torch_is_cpu_only:
        yield from cpu_build_stated(ctx, _unknown_gpu_hint(ctx))  # torch's word, no version
        return
    if not ctx.gpus_present():  # a paste that does not show the GPUs (checks/cpubuild.py)
        yield from cpu_build_unseen_gpus(ctx, _unknown_gpu_hint(ctx))
        return
    gpus = ctx.gpus()
    if gpus and all(_unservable(ctx, g) is not None for g in gpus):
        return  # no CUDA build runs on these GPUs: EL-GPU-UNSERVABLE says what does
    hint = wheel_hint(ctx) or _unknown_gpu_hint(ctx)
    version = ctx.facts.torch.version
    yield Finding(
        check_id="EL-TORCH-CPU-ONLY",
        severity=Severity.ERROR,
        message=(
            f"torch {version} is {torch_without_cuda(version)} but this machine has "
            f"{len(gpus) or len(ctx.driver.pci_gpus)} NVIDIA GPU(s): "
            "torch.cuda.is_available() is False ('Torch not compiled with CUDA enabled')"
        ),
        fix=cpu_fix(version, hint),
        evidence={
            "torch.version": ctx.facts.torch.version,
            "torch.cuda": ctx.facts.torch.cuda,
            "driver.gpus": [g.name for g in gpus],
            "driver.pci_gpus": [p.bus_id for p in ctx.driver.pci_gpus],
            "fix.roads": roads(ctx),
        },
    )


def _unknown_gpu_hint(ctx: CheckContext) -> str:
    """No build computed (the GPUs' capability or the driver unknown): the command that
    computes it, never a placeholder index. A Jetson's are NVIDIA's own builds."""
    if ctx.jetson:
        return f"this is {JETSON}"
    gpus = ctx.gpus()
    known = [g for g in gpus if g.capability is not None]
    named = [g for g in gpus if g.name]
    args = []
    if known:
        args.append(f"--capability {known[0].capability}")
    elif named:
        args.append(f'--gpu "{named[0].name}"')
    if ctx.driver_version:
        args.append(f"--driver {ctx.driver_version}")
    # with no GPU or driver named, `envlock matrix` reads this machine's
    command = " ".join(["envlock matrix", *args])
    if ctx.arm_machine:
        release, cuda = ARM_CUDA
        return (
            f"install a CUDA build of torch made for aarch64 (official ones from torch {release} "
            f"with CUDA {cuda} on, for server Arm; NVIDIA's NGC PyTorch containers too): "
            f"`{command}` run there names the one that runs on its GPU and driver"
        )
    return (
        f"install a CUDA build of torch: `{command}` names the one that runs on this GPU and driver"
    )


def _job_gpus(ctx: CheckContext) -> list[Gpu]:
    """The GPUs CUDA_VISIBLE_DEVICES gives the job, where it says which: UUIDs, or indices
    in PCI bus order (CUDA_DEVICE_ORDER=PCI_BUS_ID, NVML's order; CUDA's default order is
    fastest first). Otherwise every GPU."""
    gpus = ctx.gpus()
    value = ctx.env("CUDA_VISIBLE_DEVICES")
    if value is None or visible_devices_problems(value, gpus):
        return gpus
    entries = [e.strip() for e in value.split(",")]
    by_index = ctx.env("CUDA_DEVICE_ORDER") == "PCI_BUS_ID"
    if not all(e.startswith("GPU-") or (by_index and e.isdigit()) for e in entries):
        return gpus
    return [
        g
        for g in gpus
        if any(e == str(g.index) or (g.uuid and g.uuid.startswith(e)) for e in entries)
    ]


@check("EL-GPU-MIXED-MODELS")
def gpu_mixed_models(ctx: CheckContext) -> Iterator[Finding]:
    gpus = _job_gpus(ctx)
    named = {(g.name or "?", str(g.capability or "?")) for g in gpus}
    # a name that begins another's at the same capability is that model, cut short (a
    # paste's last GPU line ending mid-name: espnet#5556's "Tesla V100-SXM")
    models = sorted(
        (n, c) for n, c in named if not any(m != n and m.startswith(n) and d == c for m, d in named)
    )
    if len(models) < 2:
        return
    yield Finding(
        check_id="EL-GPU-MIXED-MODELS",
        severity=Severity.WARNING,
        message=(
            "this machine mixes GPU models ("
            + "; ".join(f"{n} ({c})" for n, c in models)
            + "): data-parallel jobs run at the pace of the slowest, results differ by "
            "architecture, and CUDA_VISIBLE_DEVICES order may not be what you expect"
        ),
        fix="pin the job to one model with CUDA_VISIBLE_DEVICES (set CUDA_DEVICE_ORDER=PCI_BUS_ID)",
        evidence={"gpus": [gpu_line(g) for g in gpus]},
    )


@check("EL-PERSISTENCE-OFF")
def persistence_off(ctx: CheckContext) -> Iterator[Finding]:
    gpus = ctx.gpus()
    if ctx.os_name != "linux" or len(gpus) < 2:
        return
    off = [g for g in gpus if g.persistence_mode is False]
    if not off:
        return
    yield Finding(
        check_id="EL-PERSISTENCE-OFF",
        severity=Severity.WARNING,
        message=(
            f"persistence mode is off on GPU(s) {', '.join(str(g.index) for g in off)} of "
            f"{len(gpus)}: every process start re-initialises the driver (seconds per GPU; "
            "'driver error: timed out' under load)"
        ),
        fix="sudo systemctl enable --now nvidia-persistenced  (or: sudo nvidia-smi -pm 1)",
        evidence={"gpu.persistence_mode": {str(g.index): g.persistence_mode for g in gpus}},
    )


@check("EL-NOUVEAU-BOUND")
def nouveau_bound(ctx: CheckContext) -> Iterator[Finding]:
    bound = [p for p in ctx.driver.pci_gpus if p.driver == "nouveau"]
    if not bound:
        return
    yield Finding(
        check_id="EL-NOUVEAU-BOUND",
        severity=Severity.ERROR,
        message=(
            f"the nouveau driver owns NVIDIA GPU(s) {', '.join(p.bus_id for p in bound)}: "
            "CUDA cannot see them"
        ),
        fix=(
            "blacklist nouveau (echo 'blacklist nouveau' | sudo tee "
            "/etc/modprobe.d/blacklist-nouveau.conf; sudo update-initramfs -u), install the "
            "NVIDIA driver, reboot"
        ),
        evidence={"driver.pci_gpus": [{"bus_id": p.bus_id, "driver": p.driver} for p in bound]},
    )


@check("EL-VISIBLE-DEVICES-INVALID")
def visible_devices_invalid(ctx: CheckContext) -> Iterator[Finding]:
    value = ctx.env("CUDA_VISIBLE_DEVICES")
    gpus = ctx.gpus()
    if value is None or not gpus:
        return
    problems = visible_devices_problems(value, gpus)
    if not problems:
        return
    yield Finding(
        check_id="EL-VISIBLE-DEVICES-INVALID",
        severity=Severity.ERROR,
        message=f"CUDA_VISIBLE_DEVICES={value!r}: {'; '.join(problems)}",
        fix=(
            f"set CUDA_VISIBLE_DEVICES to indices 0-{len(gpus) - 1} or GPU UUIDs from "
            "`nvidia-smi -L`, or unset it"
        ),
        evidence={
            "env.CUDA_VISIBLE_DEVICES": value,
            "gpu_count": len(gpus),
            "gpu_uuids_known": sum(1 for g in gpus if g.uuid),
        },
    )


def visible_devices_problems(value: str, gpus: list[Gpu]) -> list[str]:
    """CUDA reads entries left to right and stops at the first invalid one."""
    entries = [e.strip() for e in value.split(",")]
    if value.strip() == "" or entries == [""]:
        return ["empty: hides every GPU (torch.cuda.device_count() == 0)"]
    uuids = [g.uuid for g in gpus if g.uuid]
    for pos, entry in enumerate(entries):
        problem = _entry_problem(pos, entry, len(gpus), uuids)
        if problem is not None:  # CUDA stops here: nothing after it counts
            return [problem, "no GPU is visible"] if pos == 0 else [problem]
    return []


def _entry_problem(pos: int, entry: str, count: int, uuids: list[str]) -> str | None:
    """What is wrong with one entry of CUDA_VISIBLE_DEVICES; None: CUDA accepts it."""
    if re.fullmatch(r"-?[0-9]{1,9}", entry):  # ASCII, and short enough for int()
        idx = int(entry)
        if idx < 0:
            return f"entry {pos} ({entry}) hides this and every later device"
        if idx >= count:
            return f"index {idx} does not exist (GPUs are 0-{count - 1})"
        return None
    if entry.isascii() and entry.lstrip("-").isdigit():
        return f"index {entry[:12]}... ({len(entry)} digits) does not exist"
    if entry.startswith("GPU-"):
        known = not uuids or any(u.startswith(entry) for u in uuids)
        return None if known else f"no GPU has UUID {entry}"
    if entry.startswith("MIG-"):
        return None
    return f"entry {entry!r} is neither an index nor a GPU-/MIG- UUID"


@check("EL-TORCH-CUDA-UNAVAILABLE")
def torch_cuda_unavailable(ctx: CheckContext) -> Iterator[Finding]:
    live = ctx.facts.torch.live
    if ctx.torch_cuda is None or live is None or live.cuda_available is not False:
        return
    if not ctx.driver.gpus:
        return
    yield Finding(
        check_id="EL-TORCH-CUDA-UNAVAILABLE",
        severity=Severity.ERROR,
        message=(
            f"torch {ctx.facts.torch.version} reports torch.cuda.is_available() == False "
            f"although NVML sees {len(ctx.driver.gpus)} GPU(s)"
            + (f": {live.cuda_unavailable_reason}" if live.cuda_unavailable_reason else "")
        ),
        fix="see the other findings (driver, container, CUDA_VISIBLE_DEVICES); "
        'python -c "import torch; torch.cuda.init()" shows the underlying CUDA error',
        evidence={
            "torch.live.cuda_available": live.cuda_available,
            "torch.live.cuda_unavailable_reason": live.cuda_unavailable_reason,
            "driver.gpus": [g.name for g in ctx.driver.gpus],
        },
    )


# nvidia-smi's names of the modes, for the fix line
_SMI_MODE = {
    "exclusive_process": "E. Process",
    "exclusive_thread": "E. Thread",
    "prohibited": "Prohibited",
}


@check("EL-GPU-COMPUTE-MODE")
def gpu_compute_mode(ctx: CheckContext) -> Iterator[Finding]:
    """EXCLUSIVE_PROCESS lets one process at a time create a context on the GPU (a second
    one gets 'all CUDA-capable devices are busy or unavailable'); PROHIBITED lets none."""
    odd = [g for g in ctx.driver.gpus or [] if g.compute_mode not in (None, "default")]
    if not odd:
        return
    prohibited = [g for g in odd if g.compute_mode == "prohibited"]
    yield Finding(
        check_id="EL-GPU-COMPUTE-MODE",
        severity=Severity.ERROR if prohibited else Severity.WARNING,
        message=(
            "GPU(s) "
            + ", ".join(
                f"{g.index} ({_SMI_MODE.get(g.compute_mode or '', g.compute_mode)})" for g in odd
            )
            + ": "
            + (
                "a prohibited GPU accepts no CUDA context"
                if prohibited
                else "only one process at a time can use each; a second one (another job, "
                "a DataLoader worker touching CUDA) fails with 'all CUDA-capable devices are "
                "busy or unavailable'"
            )
        ),
        fix="give each process its own GPU (CUDA_VISIBLE_DEVICES), or set the default mode: "
        + "; ".join(f"sudo nvidia-smi -i {g.index} -c DEFAULT" for g in odd[:4]),
        evidence={"gpus": {str(g.index): g.compute_mode for g in odd}},
    )
