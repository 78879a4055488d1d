"""Facts about a GPU's health and the NVSwitch fabric, as NVML and the host show them.

Kept apart from model.py (the 500-line rule); re-exported by `envlock.facts`. Each
value is what NVML answered, None where the query was not supported or failed:
`returns` says which (each query's nvmlReturn_t, 0 = NVML_SUCCESS), so a check can
tell "no errors" from "could not read". Never cached: NVML is read fresh each run.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, kw_only=True, slots=True)
class GpuHealthFacts:
    # nvmlDeviceGetHandleByIndex returned NVML_ERROR_GPU_IS_LOST: the GPU fell off the bus
    lost: bool = False
    # nvmlDeviceGetTotalEccErrors(UNCORRECTED, VOLATILE): since the last driver load
    ecc_volatile_uncorrected: int | None = None
    # nvmlDeviceGetRemappedRows (Ampere and newer): rows remapped for uncorrectable
    # errors, a remap waiting for a GPU reset, a remap that failed (the GPU needs service)
    remapped_rows_uncorrectable: int | None = None
    remap_pending: bool | None = None
    remap_failed: bool | None = None
    # nvmlDeviceGetRetiredPagesPendingStatus (before Ampere): a page waits for a reset
    retired_pages_pending: bool | None = None
    # nvmlDeviceGetRetiredPages(DOUBLE_BIT_ECC_ERROR): pages retired for double-bit errors
    retired_pages_dbe: int | None = None
    # nvmlDeviceGetGpuFabricInfo (Hopper and newer): not_supported, not_started,
    # in_progress, completed; and the registration's own nvmlReturn_t
    fabric_state: str | None = None
    fabric_status: int | None = None
    returns: dict[str, int] = field(default_factory=dict)  # NVML function -> nvmlReturn_t


@dataclass(frozen=True, kw_only=True, slots=True)
class FabricFacts:
    """NVSwitches on the PCI bus and whether the fabric manager runs, read without root."""

    nvswitch_count: int = 0
    # a process named nv-fabricmanager in /proc; None: this /proc cannot say (a
    # container's own process namespace)
    manager_running: bool | None = None
