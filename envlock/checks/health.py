"""Health an expert checks first: a GPU fallen off the bus, uncorrectable ECC errors,
memory repairs waiting for a reset, MIG without a MIG device, the NVSwitch fabric, and
a torch family package missing a dependency it requires.

The GPU facts come from NVML (probe/nvml.py, read fresh every run, never from the
live-facts cache); each query's nvmlReturn_t is kept, so a value NVML did not give is
never read as healthy. The dependency check is `pip check` for torch, torchvision,
torchaudio and torchtext: their Requires-Dist lines as the probe read them, markers and
versions evaluated here (packaging), against the distributions installed beside them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass

from envlock.checks.context import CheckContext
from envlock.checks.registry import check
from envlock.facts import FabricFacts, GpuFacts, GpuHealthFacts
from envlock.findings import Finding, Severity


def _health(ctx: CheckContext) -> list[tuple[GpuFacts, GpuHealthFacts]]:
    return [(g, g.health) for g in ctx.driver.gpus or [] if g.health is not None]


def _names(gpus: list[GpuFacts]) -> str:
    return ", ".join(f"GPU {g.index} ({g.pci_bus_id or g.name or 'unknown'})" for g in gpus)


def _indices(gpus: list[GpuFacts]) -> str:
    return ",".join(str(g.index) for g in gpus)


# nvmlReturn_t of nvmlDeviceGetHandleByIndex for a GPU that is gone: GPU_IS_LOST (15), and
# UNKNOWN (999), which nvidia-smi prints as "Unable to determine the device handle for GPU
# <bus>: Unknown Error" for a failed GPU (recorded: tests/fixtures/nvidia_smi/README.md)
_HANDLE_LOST = {15: "NVML_ERROR_GPU_IS_LOST", 999: "NVML_ERROR_UNKNOWN (Unknown Error)"}


def _lost(h: GpuHealthFacts) -> bool:
    return h.lost or h.returns.get("nvmlDeviceGetHandleByIndex") in _HANDLE_LOST


@check("EL-GPU-LOST")
def gpu_lost(ctx: CheckContext) -> Iterator[Finding]:
    lost = [(g, h) for g, h in _health(ctx) if _lost(h)]
    if not lost:
        return
    said = sorted(
        {_HANDLE_LOST.get(h.returns.get("nvmlDeviceGetHandleByIndex", 15), "") for _, h in lost}
    )
    yield Finding(
        check_id="EL-GPU-LOST",
        severity=Severity.ERROR,
        message=(
            f"{_names([g for g, _ in lost])} cannot be reached (fell off the bus): NVML answers "
            f"{' / '.join(said)} for its handle, so no process can use it until the node is reset"
        ),
        fix=(
            "drain the node (no new jobs); read `sudo dmesg | grep -i xid` (Xid 79: fallen off "
            "the bus); reboot the node (a lost GPU seldom comes back from `nvidia-smi -r`); if "
            "it recurs, check the GPU's power and PCIe seating and open an RMA"
        ),
        evidence={"driver.gpus[].health.lost": [g.index for g, _ in lost]},
    )


@check("EL-GPU-ECC-UNCORRECTED")
def ecc_uncorrected(ctx: CheckContext) -> Iterator[Finding]:
    bad = [(g, h.ecc_volatile_uncorrected) for g, h in _health(ctx) if h.ecc_volatile_uncorrected]
    if not bad:
        return
    gpus = [g for g, _ in bad]
    yield Finding(
        check_id="EL-GPU-ECC-UNCORRECTED",
        severity=Severity.ERROR,
        message=(
            f"{_names(gpus)}: uncorrectable ECC errors since the driver loaded "
            f"({', '.join(str(n) for _, n in bad)}): a job on it may read corrupted memory or "
            "die with 'uncorrectable ECC error encountered'"
        ),
        fix=(
            f"drain the node, then as root with no process on the GPU reset it "
            f"(`sudo nvidia-smi -r -i {_indices(gpus)}`) or reboot; if the count rises again "
            f"the GPU needs service (RMA): `nvidia-smi -q -d ECC,ROW_REMAPPER -i {_indices(gpus)}`"
        ),
        evidence={
            "driver.gpus[].health.ecc_volatile_uncorrected": {g.index: n for g, n in bad},
        },
    )


@check("EL-GPU-MEMORY-REPAIR-PENDING")
def memory_repair_pending(ctx: CheckContext) -> Iterator[Finding]:
    failed = [g for g, h in _health(ctx) if h.remap_failed]
    pending = [
        g
        for g, h in _health(ctx)
        if (h.remap_pending or h.retired_pages_pending) and g not in failed
    ]
    if not failed and not pending:
        return
    parts, fixes = [], []
    if pending:
        parts.append(f"{_names(pending)}: a row remap or page retirement waits for a GPU reset")
        fixes.append(
            f"drain the node and reset the GPU as root with no process on it "
            f"(`sudo nvidia-smi -r -i {_indices(pending)}`) or reboot, so the repair takes effect"
        )
    if failed:
        parts.append(f"{_names(failed)}: a row remap failed (no spare rows left)")
        fixes.append("take the failed GPU out of service and open an RMA")
    yield Finding(
        check_id="EL-GPU-MEMORY-REPAIR-PENDING",
        severity=Severity.ERROR,
        message="; ".join(parts),
        fix="; ".join(fixes),
        evidence={
            f"driver.gpus[{g.index}].health": {
                "remap_pending": h.remap_pending,
                "remap_failed": h.remap_failed,
                "retired_pages_pending": h.retired_pages_pending,
            }
            for g, h in _health(ctx)
            if g in failed or g in pending
        },
    )


def _torch_sees_a_gpu(ctx: CheckContext) -> bool | None:
    """None: torch's live view was not observed."""
    live = ctx.facts.torch.live
    if live is None or live.unavailable is not None or live.cuda_available is None:
        return None
    return bool(live.cuda_available and (live.device_count or 0) > 0)


@check("EL-MIG-NO-DEVICE")
def mig_no_device(ctx: CheckContext) -> Iterator[Finding]:
    mig = [g for g in ctx.driver.gpus or [] if g.mig_mode]
    if not mig:
        return
    visible = ctx.env("CUDA_VISIBLE_DEVICES")
    if visible is not None and any(e.strip().startswith("MIG-") for e in visible.split(",")):
        return
    sees = _torch_sees_a_gpu(ctx)
    # Unset, CUDA enumerates the first MIG device: only torch's own view says none exists.
    if sees or (sees is None and visible is None):
        return
    first = mig[0].index
    named = "is unset" if visible is None else f"is {visible!r}"
    yield Finding(
        check_id="EL-MIG-NO-DEVICE",
        severity=Severity.ERROR,
        message=(
            f"MIG is enabled on {_names(mig)} and CUDA_VISIBLE_DEVICES {named}: it names no "
            "MIG device, so CUDA (and torch) see no GPU"
        ),
        fix=(
            f"name a MIG device: CUDA_VISIBLE_DEVICES=MIG-<uuid> from `nvidia-smi -L` (create one "
            f"first if none exists: `nvidia-smi mig -i {first} -lgip` lists the profiles, "
            f"`sudo nvidia-smi mig -i {first} -cgi <profile id> -C` creates one); or turn MIG "
            f"off: `sudo nvidia-smi -i {first} -mig 0` (then reset the GPU)"
        ),
        evidence={
            "driver.gpus[].mig_mode": [g.index for g in mig],
            "env.CUDA_VISIBLE_DEVICES": visible,
            "torch.live.device_count": (
                ctx.facts.torch.live.device_count if ctx.facts.torch.live else None
            ),
        },
    )


# nvmlGpuFabricState_t: the fabric manager has not (yet) registered the GPU
_FABRIC_NOT_READY = ("not_started", "in_progress")


def _fabric_waiting(ctx: CheckContext) -> list[GpuFacts]:
    """GPUs the fabric manager has not registered, or registered with an error status
    (nvmlGpuFabricInfo_t.status: 'must be checked only if state returns complete')."""
    out = []
    for g, h in _health(ctx):
        failed = h.fabric_state == "completed" and h.fabric_status not in (None, 0)
        if h.fabric_state in _FABRIC_NOT_READY or failed:
            out.append(g)
    return out


def _fabric_stopped(ctx: CheckContext) -> FabricFacts | None:
    """The fabric facts when NVSwitches are on the bus and the host runs no manager."""
    fab = ctx.driver.fabric
    if fab is None or fab.nvswitch_count == 0 or fab.manager_running is not False:
        return None
    return None if ctx.in_container else fab


@check("EL-FABRIC-MANAGER")
def fabric_manager(ctx: CheckContext) -> Iterator[Finding]:
    waiting, stopped = _fabric_waiting(ctx), _fabric_stopped(ctx)
    if not waiting and stopped is None:
        return
    states = {g.index: [g.health.fabric_state, g.health.fabric_status] for g in waiting if g.health}
    parts = [f"{_names(waiting)} not registered in the NVLink fabric {states}"] if waiting else []
    if stopped is not None:
        parts.append(
            f"{stopped.nvswitch_count} NVSwitch(es) on the PCI bus and no nv-fabricmanager process"
        )
    fab = ctx.driver.fabric
    yield Finding(
        check_id="EL-FABRIC-MANAGER",
        # CUDA fails with error 802 'system not yet initialized' until the fabric is up;
        # where torch already sees its GPUs, only NVLink between them is at stake
        severity=Severity.WARNING if _torch_sees_a_gpu(ctx) else Severity.ERROR,
        message="; ".join(parts) + ": CUDA cannot start on an NVSwitch system until it is",
        fix=(
            "install nvidia-fabricmanager of exactly the driver's version "
            f"({ctx.driver.version or 'see nvidia-smi'}) and start it: "
            "`sudo systemctl enable --now nvidia-fabricmanager`; `nvidia-smi -q | grep -A3 "
            "-i fabric` then shows State: Completed"
        ),
        evidence={
            "driver.gpus[].health.fabric_state/status": states,
            "driver.fabric": None if fab is None else dataclasses.asdict(fab),
        },
    )


@check("EL-FAMILY-MISSING-DEP")
def family_missing_dependency(ctx: CheckContext) -> Iterator[Finding]:
    unmet = unmet_dependencies(ctx)
    if not unmet:
        return
    lines = [f"{u.owner} {u.owner_version} requires {u.requirement}: {u.found}" for u in unmet]
    yield Finding(
        check_id="EL-FAMILY-MISSING-DEP",
        severity=Severity.ERROR,
        message="; ".join(lines),
        fix="pip install " + " ".join(f"'{u.install}'" for u in unmet),
        evidence={"packages.family_dependencies": [u.requirement for u in unmet]},
    )


@dataclass(frozen=True, slots=True)
class Unmet:
    owner: str  # the family member whose Requires-Dist it is
    owner_version: str
    requirement: str  # the line as written
    found: str  # "not installed" or "numpy 1.19.0 installed"
    install: str  # what to install: name and specifier


def _marker_environment(ctx: CheckContext) -> dict[str, str]:
    """PEP 508 marker values of the probed interpreter, where the facts say them."""
    env = {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix", "extra": ""}
    if ctx.os_name == "windows":
        env.update(sys_platform="win32", platform_system="Windows", os_name="nt")
    if ctx.facts.system.arch:
        env["platform_machine"] = ctx.facts.system.arch
    py = ctx.python_version
    if py is not None:
        env["python_version"] = str(py.truncate(2))
        env["python_full_version"] = str(py)
    return env


def unmet_dependencies(ctx: CheckContext) -> list[Unmet]:
    """`pip check` for the torch family: each Requires-Dist line whose marker holds here
    (no extras asked for) and whose distribution is absent or of a version it excludes."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name
    from packaging.version import InvalidVersion

    installed = ctx.facts.packages.distributions
    env = _marker_environment(ctx)
    out: list[Unmet] = []
    for owner in ctx.facts.packages.family_dependencies:
        for line in owner.requires:
            try:
                req = Requirement(line)
                if req.marker is not None and not req.marker.evaluate(env):
                    continue
            except (InvalidRequirement, ValueError):
                continue  # a line packaging cannot read is not ours to judge
            have = installed.get(canonicalize_name(req.name))
            try:
                if have is not None and req.specifier.contains(have, prereleases=True):
                    continue
            except InvalidVersion:
                continue  # a version PEP 440 cannot read: pip check would not judge it either
            found = "not installed" if have is None else f"{have} installed"
            out.append(
                Unmet(owner.distribution, owner.version, line, found, f"{req.name}{req.specifier}")
            )
    return out
