"""The Facts model: what envlock observed about one machine, host or container, as
frozen dataclasses (envlock/facts/__init__.py says how they are read).

A source that could not be observed carries `unavailable = "<reason>"`; an
observed absence is an empty list or a None field next to
`unavailable = None`.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypedDict, TypeVar

from envlock import typed

# re-exported (`X as X`): the digests (the lock's too), the driver section and its health
# facts, modules of their own
from envlock.digestfacts import DeterminismFacts as DeterminismFacts
from envlock.digestfacts import DigestClassFacts as DigestClassFacts
from envlock.digestfacts import DigestSummary as DigestSummary
from envlock.errors import FactsError
from envlock.facts.driver import DriverFacts as DriverFacts
from envlock.facts.driver import GpuFacts as GpuFacts
from envlock.facts.driver import PciGpuFacts as PciGpuFacts
from envlock.facts.health import FabricFacts as FabricFacts
from envlock.facts.health import GpuHealthFacts as GpuHealthFacts
from envlock.facts.load import load_json

if TYPE_CHECKING:
    from typing_extensions import Unpack  # for mypy only (PEP 692 on Python 3.10)

FACTS_VERSION = 1
# One host sees at most a few dozen GPUs (an NVL72 rack is 72 across 18 hosts); a facts
# file claiming a million is hostile input, refused before a million objects are built.
MAX_GPUS = 4096


# --------------------------------------------------------------------- system
@dataclass(frozen=True, kw_only=True, slots=True)
class OsFacts:
    id: str | None = None
    version_id: str | None = None
    pretty_name: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class PythonFacts:
    version: str
    implementation: str
    executable: str | None = None
    virtualenv: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class ContainerFacts:
    detected: bool
    runtime: str | None = None  # docker, podman, kubernetes, containerd, lxc
    kubernetes: bool = False
    evidence: list[str] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True, slots=True)
class UlimitFacts:
    soft: int | None = None  # None: unlimited
    hard: int | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class SystemFacts:
    unavailable: str | None = None
    hostname: str | None = None
    os: OsFacts | None = None
    kernel: str | None = None
    arch: str | None = None
    glibc: str | None = None
    python: PythonFacts | None = None
    cpu_model: str | None = None
    cpu_count: int | None = None
    memory_total_bytes: int | None = None
    cgroup_version: int | None = None
    cgroup_memory_limit_bytes: int | None = None
    container: ContainerFacts | None = None
    shm_total_bytes: int | None = None
    # NCCL's words that creating its /dev/shm segment failed for want of room ("Call to
    # posix_fallocate failed : No space left on device"), as a pasted log said them
    # (envlock/pasted/nccl_log.py); a live probe never fills it
    shm_failure: str | None = None
    ulimit_memlock: UlimitFacts | None = None
    ulimit_nofile: UlimitFacts | None = None


# ---------------------------------------------------------------- cuda libs
@dataclass(frozen=True, kw_only=True, slots=True)
class ToolkitFacts:
    cuda_home: str | None = None
    nvcc_path: str | None = None
    nvcc_version: str | None = None  # "13.0.88"


@dataclass(frozen=True, kw_only=True, slots=True)
class CudartFacts:
    path: str | None = None
    runtime_version: str | None = None  # "13.0"
    driver_version: str | None = None  # None when cudaDriverGetVersion gives 0: no driver
    unavailable: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class LibcudaFacts:
    path: str | None = None
    driver_version: str | None = None  # cuDriverGetVersion, "13.0"
    compat: bool = False  # loaded from a cuda-compat directory
    unavailable: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class WheelFacts:
    name: str
    version: str
    cuda_major: int | None = None
    # installed distributions whose Requires-Dist names this wheel; probed only when
    # wheels of several CUDA majors are installed
    required_by: list[str] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True, slots=True)
class LibDirFacts:
    path: str
    libraries: list[str] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True, slots=True)
class CudaLibFacts:
    unavailable: str | None = None
    toolkit: ToolkitFacts | None = None
    cudart: CudartFacts | None = None
    libcuda: LibcudaFacts | None = None
    wheels: list[WheelFacts] = field(default_factory=list)
    ld_library_path: list[LibDirFacts] = field(default_factory=list)
    ldconfig_libraries: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------- torch
@dataclass(frozen=True, kw_only=True, slots=True)
class TorchDeviceFacts:
    index: int
    name: str | None = None
    compute_capability: str | None = None
    sm_count: int | None = None
    memory_total_bytes: int | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class TorchFlagsFacts:
    deterministic_algorithms: bool | None = None
    deterministic_warn_only: bool | None = None
    cudnn_enabled: bool | None = None
    cudnn_benchmark: bool | None = None
    cudnn_deterministic: bool | None = None
    tf32_matmul: bool | None = None
    tf32_cudnn: bool | None = None
    float32_matmul_precision: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class LoadedLibFacts:
    name: str
    path: str


@dataclass(frozen=True, kw_only=True, slots=True)
class TorchLiveFacts:
    unavailable: str | None = None
    cudnn_version: str | None = None
    nccl_version: str | None = None
    arch_flags: list[str] = field(default_factory=list)
    # the lowest compute capability this build supports ("7.5"): torch's own floor, the
    # least of its arch list (the live probe) or its "minimum cuda capability supported by
    # this library is 7.5" warning (a paste that lacks the list itself)
    min_capability: str | None = None
    cuda_available: bool | None = None
    cuda_unavailable_reason: str | None = None
    device_count: int | None = None
    devices: list[TorchDeviceFacts] = field(default_factory=list)
    bf16_supported: bool | None = None
    flags: TorchFlagsFacts | None = None
    loaded_libraries: list[LoadedLibFacts] = field(default_factory=list)
    import_seconds: float | None = None
    xnnpack: bool | None = None  # torch.backends.xnnpack.enabled
    cxx11_abi: bool | None = None  # torch._C._GLIBCXX_USE_CXX11_ABI; None: not observed


@dataclass(frozen=True, kw_only=True, slots=True)
class TorchFacts:
    unavailable: str | None = None
    installed: bool = False
    version: str | None = None  # "2.14.1+cu130"
    build: str | None = None  # "cu130", "cpu", "rocm6.2"
    cuda: str | None = None  # torch.version.cuda
    hip: str | None = None
    git_version: str | None = None
    debug: bool | None = None
    location: str | None = None
    # libtorch_cuda.so's own search path: "rpath" (before LD_LIBRARY_PATH), "runpath"
    # (after it), "none"; None: not read
    lib_search_path: str | None = None
    live: TorchLiveFacts | None = None  # None: the live probe was not run


# ------------------------------------------------------------ packages / env
@dataclass(frozen=True, kw_only=True, slots=True)
class RequiresFacts:
    """An installed distribution's Requires-Dist lines that name a torch family member."""

    distribution: str
    version: str
    requires: list[str] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True, slots=True)
class PackageSourceFacts:
    """Where a distribution came from, as its direct_url.json (PEP 610) says."""

    kind: str  # url, vcs, editable, local
    url: str
    commit: str | None = None  # vcs only


@dataclass(frozen=True, kw_only=True, slots=True)
class PackagesFacts:
    unavailable: str | None = None
    distributions: dict[str, str] = field(default_factory=dict)  # normalized name -> version
    requires: list[RequiresFacts] = field(default_factory=list)
    family_dependencies: list[RequiresFacts] = field(default_factory=list)  # their own
    # envlock's requirements installed -> the distributions requiring them (None: an
    # older probe or a paste, which did not read them)
    tool_dependents: dict[str, list[str]] | None = None
    # only the distributions with a direct_url.json (not installed from an index)
    sources: dict[str, PackageSourceFacts] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True, slots=True)
class EnvFacts:
    unavailable: str | None = None
    variables: dict[str, str] = field(default_factory=dict)  # allow-listed, secrets removed
    redacted: list[str] = field(default_factory=list)  # names whose values were withheld


@dataclass(frozen=True, kw_only=True, slots=True)
class ToolchainFacts:
    """What builds extensions and what the CPU offers (collect_env parity): None values are
    absent tools; a section from an older probe has every value None (not observed)."""

    unavailable: str | None = None
    compilers: dict[str, str | None] = field(default_factory=dict)  # gcc, clang, cmake, ninja
    pip: str | None = None
    uv: str | None = None
    cpu_isa: list[str] | None = None  # avx2, avx512f, amx_bf16, sve, ... (None: not read)
    numa_nodes: int | None = None
    conda_prefix: str | None = None
    conda_packages: dict[str, str] = field(default_factory=dict)  # name -> "version build"
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- extensions
@dataclass(frozen=True, kw_only=True, slots=True)
class ExtensionFacts:
    """One native module of an installed distribution that links torch or CUDA."""

    distribution: str
    version: str | None = None
    file: str
    links: list[str] = field(default_factory=list)  # its DT_NEEDED torch/CUDA libraries
    size: int | None = None
    sha256: str | None = None  # "sha256:<hex>"
    sass: list[str] = field(default_factory=list)  # "sm_80", "sm_90a"
    ptx: list[str] = field(default_factory=list)  # "compute_90"
    cuda_major: int | None = None  # of the libcudart it links; None: links none
    cxx11_abi: bool | None = None  # inferred from its symbols; None: they do not tell
    torch_symbols: int | None = None  # c10/ATen/torch symbols it needs
    missing_torch_symbols: list[str] = field(default_factory=list)  # the first few
    missing_torch_symbols_total: int | None = None  # None: no torch to check against
    # the torch its build names ("2.2.0+cu121": xFormers' build information); None: not said
    built_for_torch: str | None = None
    partial: str | None = None  # what could not be read


@dataclass(frozen=True, kw_only=True, slots=True)
class ExtensionsFacts:
    unavailable: str | None = None
    files_scanned: int | None = None
    torch_libraries: int | None = None  # torch libraries the symbols were checked against
    items: list[ExtensionFacts] = field(default_factory=list)
    partial: str | None = None  # the scan stopped early (its time or byte budget): why


# ------------------------------------------------------------- image / determinism
@dataclass(frozen=True, kw_only=True, slots=True)
class ImageFacts:
    """What Docker says about the image or container the facts were probed in."""

    reference: str
    kind: str = "image"  # image or container
    id: str | None = None
    repo_digests: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    user: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    shm_size_bytes: int | None = None
    gpus_requested: str | None = None
    gpu_request_error: str | None = None
    probe_mode: str = "python"  # python, or shell when the image has no python3


# -------------------------------------------------------------------- network
@dataclass(frozen=True, kw_only=True, slots=True)
class NetInterfaceFacts:
    name: str
    operstate: str | None = None  # up, down, unknown (lo), dormant, ...
    arp_type: int | None = None  # ARPHRD_*: 1 Ethernet, 32 InfiniBand, 772 loopback
    physical: bool = False  # a device behind it (not veth, bridge, lo)


@dataclass(frozen=True, kw_only=True, slots=True)
class IbPortFacts:
    port: int
    state: str | None = None  # ACTIVE, DOWN, INIT, ARMED
    link_layer: str | None = None  # InfiniBand, or Ethernet (RoCE)


@dataclass(frozen=True, kw_only=True, slots=True)
class IbDeviceFacts:
    name: str  # mlx5_0
    ports: list[IbPortFacts] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True, slots=True)
class NetworkFacts:
    """What a multi-node job's NCCL/gloo traffic depends on (envlock/probe/network.py)."""

    unavailable: str | None = None
    interfaces: list[NetInterfaceFacts] = field(default_factory=list)
    ib_devices: list[IbDeviceFacts] = field(default_factory=list)
    gpudirect_module: str | None = None  # nvidia_peermem / nv_peer_mem when loaded


# ----------------------------------------------------------------------- top
@dataclass(frozen=True, kw_only=True, slots=True)
class MetaFacts:
    envlock_version: str
    collected_at: str  # ISO 8601, UTC
    target: str = "host"  # host, this RUNTIME container, image:NAME, container:NAME, facts:FILE
    partial: bool = False  # true when a fallback could observe only part of the facts
    durations_ms: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True, slots=True)
class Facts:
    facts_version: int = FACTS_VERSION
    meta: MetaFacts
    system: SystemFacts = field(default_factory=SystemFacts)
    driver: DriverFacts = field(default_factory=DriverFacts)
    cuda: CudaLibFacts = field(default_factory=CudaLibFacts)
    torch: TorchFacts = field(default_factory=TorchFacts)
    packages: PackagesFacts = field(default_factory=PackagesFacts)
    env: EnvFacts = field(default_factory=EnvFacts)
    extensions: ExtensionsFacts = field(default_factory=ExtensionsFacts)
    image: ImageFacts | None = None
    determinism: DeterminismFacts | None = None
    toolchain: ToolchainFacts = field(default_factory=ToolchainFacts)
    network: NetworkFacts | None = None  # None: not probed (facts from before issue 16)

    @classmethod
    def from_dict(cls, data: object) -> Facts:
        if not isinstance(data, dict):
            raise FactsError(f"facts must be a JSON object, got {type(data).__name__}")
        version = data.get("facts_version")
        if version != FACTS_VERSION:
            raise FactsError(
                f"unsupported facts_version {version!r} (this envlock reads {FACTS_VERSION})"
            )
        for key, items in (
            ("driver.gpus", _get(data, "gpus")),
            ("driver.pci_gpus", _get(data, "pci_gpus")),
        ):
            if isinstance(items, list) and len(items) > MAX_GPUS:
                raise FactsError(
                    f"in '{key}': {len(items)} GPUs in one machine is not a real probe "
                    f"(at most {MAX_GPUS})"
                )
        return _build(cls, data, "")

    @classmethod
    def from_json(cls, text: str) -> Facts:
        return cls.from_dict(load_json(text))

    def to_dict(self) -> dict[str, object]:
        out = _dump(self)
        assert isinstance(out, dict)
        return out

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, sort_keys=False)

    def replace(self, **changes: Unpack[FactsChanges]) -> Facts:
        return dataclasses.replace(self, **changes)


class FactsChanges(TypedDict, total=False):
    """What Facts.replace() may change: any top-level field, with its type."""

    facts_version: int
    meta: MetaFacts
    system: SystemFacts
    driver: DriverFacts
    cuda: CudaLibFacts
    torch: TorchFacts
    packages: PackagesFacts
    env: EnvFacts
    extensions: ExtensionsFacts
    image: ImageFacts | None
    determinism: DeterminismFacts | None
    toolchain: ToolchainFacts
    network: NetworkFacts | None


T = TypeVar("T")


def _dump(value: object) -> object:
    return typed.dump(value)


def _get(data: dict[str, object], key: str) -> object:
    driver = data.get("driver")
    return driver.get(key) if isinstance(driver, dict) else None


def _build(cls: type[T], data: object, path: str) -> T:
    return typed.Reader(error=FactsError).build(cls, data, path)
