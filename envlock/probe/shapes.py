"""The probe's facts document as the type checker sees it: one TypedDict per section,
key for key the dataclasses of envlock/facts/model.py (tests/probe/test_shapes.py holds
them equal), every key optional (a section is built up key by key, and an unavailable
source is `{"unavailable": reason}` alone).

For type checking only: the probe's modules import it under TYPE_CHECKING, so it never
runs (typing costs ~3 ms of every container probe, and the probe runs on Python 3.8).
`envlock.pasted` (host side) builds the same document from pasted text.
"""

from __future__ import annotations

from typing import TypedDict


class MetaDoc(TypedDict, total=False):
    envlock_version: str
    collected_at: str
    target: str
    partial: bool
    durations_ms: dict[str, float]
    notes: list[str]


class OsDoc(TypedDict, total=False):
    id: str | None
    version_id: str | None
    pretty_name: str | None


class PythonDoc(TypedDict, total=False):
    version: str
    implementation: str
    executable: str | None
    virtualenv: str | None


class ContainerDoc(TypedDict, total=False):
    detected: bool
    runtime: str | None
    kubernetes: bool
    evidence: list[str]


class UlimitDoc(TypedDict, total=False):
    soft: int | None
    hard: int | None


class SystemDoc(TypedDict, total=False):
    unavailable: str | None
    hostname: str | None
    os: OsDoc | None
    kernel: str | None
    arch: str | None
    glibc: str | None
    python: PythonDoc | None
    cpu_model: str | None
    cpu_count: int | None
    memory_total_bytes: int | None
    cgroup_version: int | None
    cgroup_memory_limit_bytes: int | None
    container: ContainerDoc | None
    shm_total_bytes: int | None
    shm_failure: str | None
    ulimit_memlock: UlimitDoc | None
    ulimit_nofile: UlimitDoc | None


class GpuDoc(TypedDict, total=False):
    index: int
    name: str | None
    uuid: str | None
    pci_bus_id: str | None
    compute_capability: str | None
    memory_total_bytes: int | None
    mig_mode: bool | None
    ecc_mode: bool | None
    persistence_mode: bool | None
    brand: str | None
    compute_mode: str | None
    health: GpuHealthDoc | None


class GpuHealthDoc(TypedDict, total=False):
    lost: bool
    ecc_volatile_uncorrected: int | None
    remapped_rows_uncorrectable: int | None
    remap_pending: bool | None
    remap_failed: bool | None
    retired_pages_pending: bool | None
    retired_pages_dbe: int | None
    fabric_state: str | None
    fabric_status: int | None
    returns: dict[str, int]


class FabricDoc(TypedDict, total=False):
    nvswitch_count: int
    manager_running: bool | None


class PciGpuDoc(TypedDict, total=False):
    bus_id: str
    device_id: str | None
    driver: str | None


class DriverDoc(TypedDict, total=False):
    unavailable: str | None
    source: str | None
    version: str | None
    nvml_library_version: str | None
    kernel_module_version: str | None
    nvml_version: str | None
    cuda_version: str | None
    nvml_error: str | None
    gpus: list[GpuDoc] | None
    device_nodes: list[str]
    pci_gpus: list[PciGpuDoc]
    fabric: FabricDoc | None


class ToolkitDoc(TypedDict, total=False):
    cuda_home: str | None
    nvcc_path: str | None
    nvcc_version: str | None


class CudartDoc(TypedDict, total=False):
    path: str | None
    runtime_version: str | None
    driver_version: str | None
    unavailable: str | None


class LibcudaDoc(TypedDict, total=False):
    path: str | None
    driver_version: str | None
    compat: bool
    unavailable: str | None


class WheelDoc(TypedDict, total=False):
    name: str
    version: str
    cuda_major: int | None
    required_by: list[str]


class LibDirDoc(TypedDict, total=False):
    path: str
    libraries: list[str]


class CudaLibDoc(TypedDict, total=False):
    unavailable: str | None
    toolkit: ToolkitDoc | None
    cudart: CudartDoc | None
    libcuda: LibcudaDoc | None
    wheels: list[WheelDoc]
    ld_library_path: list[LibDirDoc]
    ldconfig_libraries: list[str]


class TorchDeviceDoc(TypedDict, total=False):
    index: int
    name: str | None
    compute_capability: str | None
    sm_count: int | None
    memory_total_bytes: int | None


class TorchFlagsDoc(TypedDict, total=False):
    deterministic_algorithms: bool | None
    deterministic_warn_only: bool | None
    cudnn_enabled: bool | None
    cudnn_benchmark: bool | None
    cudnn_deterministic: bool | None
    tf32_matmul: bool | None
    tf32_cudnn: bool | None
    float32_matmul_precision: str | None


class LoadedLibDoc(TypedDict, total=False):
    name: str
    path: str


class TorchLiveDoc(TypedDict, total=False):
    unavailable: str | None
    cudnn_version: str | None
    nccl_version: str | None
    arch_flags: list[str]
    min_capability: str | None
    cuda_available: bool | None
    cuda_unavailable_reason: str | None
    device_count: int | None
    devices: list[TorchDeviceDoc]
    bf16_supported: bool | None
    flags: TorchFlagsDoc | None
    loaded_libraries: list[LoadedLibDoc]
    import_seconds: float | None
    xnnpack: bool | None
    cxx11_abi: bool | None


class TorchDoc(TypedDict, total=False):
    unavailable: str | None
    installed: bool
    version: str | None
    build: str | None
    cuda: str | None
    hip: str | None
    git_version: str | None
    debug: bool | None
    location: str | None
    lib_search_path: str | None
    live: TorchLiveDoc | None


class RequiresDoc(TypedDict, total=False):
    distribution: str
    version: str
    requires: list[str]


class PackageSourceDoc(TypedDict, total=False):
    kind: str
    url: str
    commit: str | None


class PackagesDoc(TypedDict, total=False):
    unavailable: str | None
    distributions: dict[str, str]
    requires: list[RequiresDoc]
    family_dependencies: list[RequiresDoc]
    tool_dependents: dict[str, list[str]] | None
    sources: dict[str, PackageSourceDoc]


class EnvDoc(TypedDict, total=False):
    unavailable: str | None
    variables: dict[str, str]
    redacted: list[str]


class ExtensionDoc(TypedDict, total=False):
    distribution: str
    version: str | None
    file: str
    links: list[str]
    size: int | None
    sha256: str | None
    sass: list[str]
    ptx: list[str]
    cuda_major: int | None
    cxx11_abi: bool | None
    torch_symbols: int | None
    missing_torch_symbols: list[str]
    missing_torch_symbols_total: int | None
    built_for_torch: str | None
    partial: str | None


class ExtensionsDoc(TypedDict, total=False):
    unavailable: str | None
    files_scanned: int | None
    torch_libraries: int | None
    items: list[ExtensionDoc]
    partial: str | None


class ToolchainDoc(TypedDict, total=False):
    unavailable: str | None
    compilers: dict[str, str | None]
    pip: str | None
    uv: str | None
    cpu_isa: list[str] | None
    numa_nodes: int | None
    conda_prefix: str | None
    conda_packages: dict[str, str]
    notes: list[str]


class NetInterfaceDoc(TypedDict, total=False):
    name: str
    operstate: str | None
    arp_type: int | None
    physical: bool


class IbPortDoc(TypedDict, total=False):
    port: int
    state: str | None
    link_layer: str | None


class IbDeviceDoc(TypedDict, total=False):
    name: str
    ports: list[IbPortDoc]


class NetworkDoc(TypedDict, total=False):
    unavailable: str | None
    interfaces: list[NetInterfaceDoc]
    ib_devices: list[IbDeviceDoc]
    gpudirect_module: str | None


class FactsDoc(TypedDict, total=False):
    facts_version: int
    meta: MetaDoc
    system: SystemDoc
    driver: DriverDoc
    cuda: CudaLibDoc
    torch: TorchDoc
    packages: PackagesDoc
    env: EnvDoc
    extensions: ExtensionsDoc
    toolchain: ToolchainDoc
    network: NetworkDoc | None
