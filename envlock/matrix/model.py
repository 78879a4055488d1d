"""The compatibility matrix as frozen dataclasses, with the queries checks ask of it."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field

from envlock.matrix.versions import ArchTarget, Version, cuda_variant


@dataclass(frozen=True, kw_only=True, slots=True)
class ToolkitDriver:
    cuda: Version  # major.minor
    release: str  # "12.8 Update 1"
    linux: Version
    windows: Version | None  # None: N/A
    source: tuple[str, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class MinorFloor:
    cuda_major: int
    linux: Version
    windows: Version | None
    source: tuple[str, ...]
    note: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class ArchDriver:
    """The driver branches that run one GPU architecture: from `min_branch` (the first
    that knows it) to `last_branch` (the last before it went legacy); None: open-ended."""

    name: str
    capabilities: tuple[Version, ...]
    min_branch: int | None = None
    last_branch: int | None = None
    source: tuple[str, ...]
    note: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Capability:
    sm: Version
    first_cuda: Version
    last_cuda: Version | None = None  # None: supported by the newest toolkit
    tegra: bool = False
    runs_sass_of: tuple[Version, ...] = ()
    source: tuple[str, ...]
    note: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class GpuModel:
    name: str
    capability: Version
    source: tuple[str, ...]
    unverified: bool = False
    cpu: str = "x86_64"  # "aarch64": sold only in Arm systems (Grace, Jetson)
    also: tuple[Version, ...] = ()  # other capabilities sold under this name

    @property
    def ambiguous(self) -> bool:
        """The name alone does not say the capability (GT 730: Kepler 3.5 or Fermi 2.1)."""
        return bool(self.also)

    @property
    def tokens(self) -> tuple[str, ...]:
        return name_tokens(self.name)


@dataclass(frozen=True, kw_only=True, slots=True)
class TorchVariant:
    name: str  # cu128
    cuda: Version
    cudnn: Version | None = None
    cudnn_pypi: Version | None = None  # what the PyPI wheel pins, where it differs
    nccl: Version | None = None
    arch_list: tuple[str, ...] | None = None  # None: not known
    unverified: tuple[str, ...] = ()
    source: tuple[str, ...]
    note: str | None = None

    @property
    def targets(self) -> list[ArchTarget] | None:
        if self.arch_list is None:
            return None
        return [t for item in self.arch_list for t in ArchTarget.from_arch_list_item(item)]


@dataclass(frozen=True, kw_only=True, slots=True)
class TorchRelease:
    release: Version  # major.minor
    python_min: Version
    python_max: Version
    requires_python: str | None  # None: the wheels declare none (1.0-1.2)
    default_variant: str
    variants: tuple[TorchVariant, ...]
    unverified: tuple[str, ...] = ()  # release fields none of the sources states
    source: tuple[str, ...]
    note: str | None = None

    def variant(self, name: str) -> TorchVariant | None:
        return next((v for v in self.variants if v.name == name), None)

    def supports_python(self, python: Version) -> bool:
        """By minor version, as wheels are tagged: 3.13.0rc1 counts as 3.13."""
        return python.truncate(2).within(self.python_min, self.python_max)


@dataclass(frozen=True, kw_only=True, slots=True)
class CudaRange:
    min: Version
    max: Version | None


@dataclass(frozen=True, kw_only=True, slots=True)
class CudnnRange:
    min: Version
    max: Version | None
    cuda: tuple[CudaRange, ...]
    capability_min: Version | None
    capability_max: Version | None
    source: tuple[str, ...]
    note: str | None = None

    def contains(self, cudnn: Version) -> bool:
        return cudnn.within(self.min, self.max)

    def supports_capability(self, cc: Version) -> bool:
        return cc.within(self.capability_min, self.capability_max)

    def supports_cuda(self, cuda: Version) -> bool:
        return any(cuda.within(r.min, r.max) for r in self.cuda)


class DriverSupport(enum.Enum):
    FULL = "full"  # driver >= the toolkit's own driver
    MINOR_COMPAT = "minor-compat"  # runs through minor-version compatibility
    TOO_OLD = "too-old"  # fails: "driver version is insufficient"
    UNKNOWN = "unknown"  # CUDA version not in the matrix


@dataclass(frozen=True, kw_only=True, slots=True)
class DriverVerdict:
    support: DriverSupport
    needed_full: Version | None  # toolkit driver (GA) of that CUDA
    needed_minor: Version | None  # minor-version floor of that CUDA major


@dataclass(frozen=True, kw_only=True, slots=True)
class Coverage:
    """How a binary's targets serve one GPU: by SASS, by PTX JIT only, or not at all."""

    sass: ArchTarget | None = None
    ptx: ArchTarget | None = None

    @property
    def runs(self) -> bool:
        return self.sass is not None or self.ptx is not None


def name_tokens(name: str) -> tuple[str, ...]:
    return tuple(t for t in re.split(r"[^0-9a-z]+", name.lower()) if t)


def _contains(haystack: tuple[str, ...], needle: tuple[str, ...]) -> bool:
    n = len(needle)
    return n > 0 and any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))


@dataclass(frozen=True, kw_only=True, slots=True)
class Matrix:
    sources: dict[str, str]
    toolkits: tuple[ToolkitDriver, ...]
    minor_floors: tuple[MinorFloor, ...]
    capabilities: tuple[Capability, ...]
    gpus: tuple[GpuModel, ...]
    torch: tuple[TorchRelease, ...]
    cudnn: tuple[CudnnRange, ...]
    architectures: tuple[ArchDriver, ...] = ()
    _by_sm: dict[Version, Capability] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_sm.update({c.sm: c for c in self.capabilities})

    # ------------------------------------------------------------- drivers
    def toolkit_driver(self, cuda: Version, os_name: str = "linux") -> Version | None:
        """The driver a CUDA major.minor ships with (its GA release): full compatibility."""
        key = cuda.truncate(2)
        found = [
            d for d in (self._driver_of(t, os_name) for t in self.toolkits if t.cuda == key) if d
        ]
        return min(found) if found else None

    def minor_floor(self, cuda_major: int, os_name: str = "linux") -> Version | None:
        for f in self.minor_floors:
            if f.cuda_major == cuda_major:
                return f.windows if os_name == "windows" else f.linux
        return None

    def driver_support(
        self, driver: Version, cuda: Version, os_name: str = "linux"
    ) -> DriverVerdict:
        full = self.toolkit_driver(cuda, os_name)
        floor = self.minor_floor(cuda.major, os_name)
        if full is None:
            support = DriverSupport.UNKNOWN
        elif driver >= full:
            support = DriverSupport.FULL
        elif floor is not None and driver >= floor:
            support = DriverSupport.MINOR_COMPAT
        else:
            support = DriverSupport.TOO_OLD
        return DriverVerdict(support=support, needed_full=full, needed_minor=floor)

    def newest_cuda_for_driver(self, driver: Version, os_name: str = "linux") -> Version | None:
        """The newest CUDA major.minor whose toolkit driver this driver meets."""
        fits = [
            c
            for c in {t.cuda for t in self.toolkits}
            if (d := self.toolkit_driver(c, os_name)) is not None and d <= driver
        ]
        return max(fits) if fits else None

    @staticmethod
    def _driver_of(t: ToolkitDriver, os_name: str) -> Version | None:
        return t.windows if os_name == "windows" else t.linux

    # ------------------------------------------------ drivers per architecture
    def architecture(self, cc: Version) -> ArchDriver | None:
        key = cc.truncate(2)
        return next((a for a in self.architectures if key in a.capabilities), None)

    def gpu_min_driver(self, cc: Version, os_name: str = "linux") -> Version | None:
        """The oldest driver of the table on the first branch that runs `cc` (the toolkit
        drivers name concrete versions; a branch alone is no version to install)."""
        arch = self.architecture(cc)
        if arch is None or arch.min_branch is None:
            return None
        found = [
            d
            for d in (self._driver_of(t, os_name) for t in self.toolkits)
            if d is not None and d.major >= arch.min_branch
        ]
        return min(found) if found else None

    def driver_exists_for(self, needed: Version, caps: list[Version], os_name: str) -> bool:
        """A driver >= `needed` that still runs every GPU of `caps` exists: no GPU's last
        branch is older. Windows numbers a branch's releases past it (R470: 471-475), but
        below the next branch: there the bound is the first toolkit branch after the last."""
        lasts = [a.last_branch for cc in caps if (a := self.architecture(cc)) is not None]
        if os_name != "windows":
            return all(last is None or needed.major <= last for last in lasts)
        branches = {t.linux.major for t in self.toolkits if t.linux is not None}
        for last in lasts:
            after = [b for b in branches if last is not None and b > last]
            if after and needed.major >= min(after):
                return False
        return True

    def driver_gpu_problem(self, driver: Version, cc: Version, os_name: str) -> str | None:
        """Why `driver` cannot run a GPU of capability `cc`, if it cannot: a branch older
        than the architecture's first, or (Linux) newer than its last."""
        arch = self.architecture(cc)
        if arch is None:
            return None
        if arch.min_branch is not None and driver.major < arch.min_branch:
            return (
                f"driver {driver} is older than any driver for {arch.name} GPUs (compute "
                f"capability {cc.truncate(2)} needs an R{arch.min_branch} driver or newer)"
            )
        last = arch.last_branch
        if os_name != "windows" and last is not None and driver.major > last:
            return (
                f"driver {driver} no longer supports {arch.name} GPUs (compute capability "
                f"{cc.truncate(2)}): R{last} is their last driver branch"
            )
        return None

    # -------------------------------------------------------- capabilities
    def capability(self, sm: Version) -> Capability | None:
        return self._by_sm.get(sm.truncate(2))

    def gpu_by_name(self, name: str) -> GpuModel | None:
        """The longest table name whose words appear in `name`; or, for a short query
        such as "4090", the one table name that contains all its words."""
        tokens = name_tokens(name)
        hits = [g for g in self.gpus if _contains(tokens, g.tokens)]
        if hits:
            return max(hits, key=lambda g: len(g.tokens))
        partial = [g for g in self.gpus if _contains(g.tokens, tokens)]
        return partial[0] if len(partial) == 1 else None

    def sass_runs(self, target: ArchTarget, gpu: Version) -> bool:
        """The CUDA binary-compatibility rule for one SASS target: same major, minor at most
        the GPU's (CUDA C++ Programming Guide, "Binary Compatibility", source CG); Tegra
        parts run only their own SASS plus `runs_sass_of` (torch's DEVICE_REQUIREMENT, W)."""
        t, g = target.capability, gpu.truncate(2)
        gpu_info, target_info = self.capability(g), self.capability(t)
        if gpu_info is not None and gpu_info.tegra:
            return t == g or t in gpu_info.runs_sass_of
        if target.variant == "a" or (target_info is not None and target_info.tegra):
            return t == g
        return t.major == g.major and t.minor <= g.minor

    @staticmethod
    def ptx_runs(target: ArchTarget, gpu: Version) -> bool:
        t, g = target.capability, gpu.truncate(2)
        if target.variant == "a":
            return t == g
        if target.variant == "f":
            return t.major == g.major and t.minor <= g.minor
        return g >= t

    def coverage(self, gpu: Version, targets: list[ArchTarget]) -> Coverage:
        sass = [t for t in targets if not t.ptx and self.sass_runs(t, gpu)]
        ptx = [t for t in targets if t.ptx and self.ptx_runs(t, gpu)]
        return Coverage(
            sass=max(sass, key=lambda t: t.capability) if sass else None,
            ptx=max(ptx, key=lambda t: t.capability) if ptx else None,
        )

    # --------------------------------------------------------------- torch
    def torch_release(self, version: Version) -> TorchRelease | None:
        key = version.truncate(2)
        return next((r for r in self.torch if r.release == key), None)

    def torch_variant(self, version: Version, cuda: Version) -> TorchVariant | None:
        release = self.torch_release(version)
        return release.variant(cuda_variant(cuda)) if release else None

    # --------------------------------------------------------------- cudnn
    def cudnn_range(self, cudnn: Version) -> CudnnRange | None:
        return next((r for r in self.cudnn if r.contains(cudnn)), None)
