"""The Facts model's driver section: the NVIDIA driver, NVML's GPUs and the PCI bus.

Split from model.py (the 500-line rule); re-exported by model.py and `envlock.facts`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from envlock.facts.health import FabricFacts, GpuHealthFacts


# --------------------------------------------------------------------- driver
@dataclass(frozen=True, kw_only=True, slots=True)
class GpuFacts:
    index: int
    name: str | None = None
    uuid: str | None = None  # probe output only, never the lock
    pci_bus_id: str | None = None
    compute_capability: str | None = None  # "9.0"
    memory_total_bytes: int | None = None
    mig_mode: bool | None = None
    ecc_mode: bool | None = None
    persistence_mode: bool | None = None
    brand: str | None = None
    # NVML compute mode: default, exclusive_process, exclusive_thread, prohibited
    compute_mode: str | None = None
    health: GpuHealthFacts | None = None  # facts/health.py; None: not read (older probe)


@dataclass(frozen=True, kw_only=True, slots=True)
class PciGpuFacts:
    bus_id: str
    device_id: str | None = None
    driver: str | None = None  # kernel driver bound: nvidia, nouveau, vfio-pci, None


@dataclass(frozen=True, kw_only=True, slots=True)
class DriverFacts:
    unavailable: str | None = None  # why NVML could not be used
    source: str | None = None  # nvml, sysfs, procfs
    version: str | None = None
    nvml_library_version: str | None = None
    kernel_module_version: str | None = None
    nvml_version: str | None = None
    cuda_version: str | None = None  # the newest CUDA this driver supports, "13.0"
    nvml_error: str | None = None
    gpus: list[GpuFacts] | None = None  # None: not observed
    device_nodes: list[str] = field(default_factory=list)
    pci_gpus: list[PciGpuFacts] = field(default_factory=list)
    fabric: FabricFacts | None = None  # NVSwitches and the fabric manager (facts/health.py)
