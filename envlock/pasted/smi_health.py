"""The health lines of a pasted `nvidia-smi -q` -> each GPU's `health`, as NVML gives it.

nvidia-smi prints NVML's answers: ECC Errors > Volatile (nvmlDeviceGetTotalEccErrors),
Remapped Rows (nvmlDeviceGetRemappedRows), Retired Pages > Pending Page Blacklist
(nvmlDeviceGetRetiredPagesPendingStatus), Fabric (nvmlDeviceGetGpuFabricInfo). A value
printed "N/A" is a query NVML did not support: recorded as NVML_ERROR_NOT_SUPPORTED (3),
so the checks read it as unknown, never as healthy. Lines are nested by indentation; a
GPU's block starts at its `GPU <bus id>` line.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from envlock.pasted.draft import Draft
    from envlock.probe.shapes import GpuHealthDoc

_GPU = re.compile(r"^GPU ([0-9A-Fa-f]{4,8}:[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}\.[0-7])\s*$")
_NOT_SUPPORTED = 3
# nvmlGpuFabricState_t as nvidia-smi prints it; the status is nvmlErrorString's text
_FABRIC_STATES = {
    "Not Supported": "not_supported",
    "Not Started": "not_started",
    "In Progress": "in_progress",
    "Completed": "completed",
}
_STATUS_CODES = {"Success": 0, "Insufficient Resources": 23, "Unknown Error": 999}
_YES_NO = {"Yes": True, "No": False}

Lines = dict[tuple[str, ...], str]


def read_health(text: str, draft: Draft) -> int:
    """Set `health` on each drafted GPU whose `-q` block prints health lines; how many."""
    by_bus = {g.get("pci_bus_id"): g for g in draft.gpus or []}
    found = 0
    for bus, lines in _blocks(text):
        gpu = by_bus.get(bus)
        health = _health(lines)
        if gpu is None or health is None:
            continue
        table = gpu.get("health")  # the table's Volatile Uncorr. ECC, when it printed one
        if table is not None:  # the -q block's answers are the fuller reading: they win
            returns = {**table.get("returns", {}), **health.get("returns", {})}
            health = {**table, **health}
            health["returns"] = returns
        gpu["health"] = health
        found += 1
    return found


def _blocks(text: str) -> list[tuple[str, Lines]]:
    """[(bus id, {heading path + key: value})] for each GPU block."""
    out: list[tuple[str, Lines]] = []
    stack: list[tuple[int, str]] = []
    lines: Lines | None = None
    for raw in text.splitlines():
        gpu = _GPU.match(raw.rstrip())
        if gpu:
            lines, stack = {}, []
            out.append((gpu.group(1), lines))
            continue
        head, colon, value = raw.partition(":")
        key = head.strip()
        if lines is None or not key or len(key) > 80:
            continue
        indent = len(head) - len(head.lstrip())
        while stack and stack[-1][0] >= indent:
            stack.pop()
        if not colon or not value.strip():
            stack.append((indent, key))
            del stack[:-8]  # a paste nests a few levels; a hostile one is bounded
        else:
            path = (*[h for _, h in stack], key)
            lines[path] = value.strip()
    return out


def _count(value: str | None) -> int | None:
    return int(value) if value is not None and value.isdigit() and len(value) < 19 else None


def _ecc(lines: Lines, health: GpuHealthDoc, returns: dict[str, int]) -> None:
    """ECC Errors > Volatile: the uncorrectable counts (Ampere+: SRAM and DRAM lines;
    before Ampere: Double Bit > Total)."""
    old = lines.get(("ECC Errors", "Volatile", "Double Bit", "Total"))
    values = (
        [old]
        if old is not None
        else [
            v
            for k, v in lines.items()
            if k[:2] == ("ECC Errors", "Volatile") and "Uncorrectable" in k[-1]
        ]
    )
    if not values:
        return
    counts = [_count(v) for v in values]
    known = [c for c in counts if c is not None]
    returns["nvmlDeviceGetTotalEccErrors"] = 0 if len(known) == len(counts) else _NOT_SUPPORTED
    health["ecc_volatile_uncorrected"] = sum(known) if len(known) == len(counts) else None


def _remap(lines: Lines, health: GpuHealthDoc, returns: dict[str, int]) -> None:
    """Remapped Rows: one NVML answer (nvmlDeviceGetRemappedRows) printed as four lines, so
    one line it could not give ("N/A") is the whole answer's."""
    rows = "Remapped Rows"
    pending = lines.get((rows, "Pending"))
    if pending is None:
        return
    counts = [lines.get((rows, k)) for k in ("Correctable Error", "Uncorrectable Error")]
    failed = lines.get((rows, "Remapping Failure Occurred"), "No")  # an excerpt may end
    valid = pending in _YES_NO and failed in _YES_NO
    if not valid or not all(c is None or _count(c) is not None for c in counts):
        returns["nvmlDeviceGetRemappedRows"] = _NOT_SUPPORTED
        return
    returns["nvmlDeviceGetRemappedRows"] = 0
    health["remap_pending"] = _YES_NO[pending]
    health["remap_failed"] = _YES_NO[failed]
    health["remapped_rows_uncorrectable"] = _count(counts[1])


def _pages(lines: Lines, health: GpuHealthDoc, returns: dict[str, int]) -> None:
    pending = lines.get(("Retired Pages", "Pending Page Blacklist"))
    if pending is None:
        return
    returns["nvmlDeviceGetRetiredPagesPendingStatus"] = 0 if pending in _YES_NO else _NOT_SUPPORTED
    health["retired_pages_pending"] = _YES_NO.get(pending)
    health["retired_pages_dbe"] = _count(lines.get(("Retired Pages", "Double Bit ECC")))


def _fabric(lines: Lines, health: GpuHealthDoc, returns: dict[str, int]) -> None:
    state = lines.get(("Fabric", "State"))
    if state is None:
        return
    known = _FABRIC_STATES.get(state)
    returns["nvmlDeviceGetGpuFabricInfo"] = _NOT_SUPPORTED if known is None else 0
    if known is None:
        return
    health["fabric_state"] = known
    status = lines.get(("Fabric", "Status"), "N/A")
    # a status NVML has no text for here is still a failure, not a success
    health["fabric_status"] = None if status == "N/A" else _STATUS_CODES.get(status, -1)


def _health(lines: Lines) -> GpuHealthDoc | None:
    returns: dict[str, int] = {}
    health: GpuHealthDoc = {"lost": False}
    for read in (_ecc, _remap, _pages, _fabric):
        read(lines, health, returns)
    if not returns:
        return None  # the paste printed none of the health lines (nvidia-smi -q -d MEMORY)
    health["returns"] = returns
    return health
