"""What a check sees: the facts, optional host facts, the matrix, and derived views of them."""

from __future__ import annotations

import os
from dataclasses import dataclass

from envlock.facts import DriverFacts, Facts
from envlock.matrix import ArchTarget, Matrix, TorchVariant, Version, parse_arch_flags
from envlock.matrix.arm import jetson_kernel
from envlock.matrix.builds import not_the_official_wheel

EXPECTATIONS = frozenset({"bf16", "deterministic"})

# Environment variables that say the job will train in bf16 (accelerate, Lightning), and
# the prefix of the values that do: "bf16", and Lightning 2's "bf16-mixed"/"bf16-true".
# The probe's allow-list (probe/envvars.py) keeps each of these names.
BF16_ENV = {"ACCELERATE_MIXED_PRECISION": "bf16", "PL_PRECISION": "bf16"}


@dataclass(frozen=True, kw_only=True, slots=True)
class Gpu:
    """One GPU as the checks need it, from NVML facts, torch's view, or the name table."""

    index: int
    name: str | None
    capability: Version | None
    capability_from: str  # "nvml", "torch", "name table", "unknown"
    brand: str | None = None
    uuid: str | None = None
    persistence_mode: bool | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Targets:
    targets: list[ArchTarget]
    origin: str  # where the list came from, for evidence

    @property
    def flags(self) -> list[str]:
        return [str(t) for t in self.targets]


@dataclass(frozen=True, kw_only=True, slots=True)
class CheckContext:
    facts: Facts
    host: Facts | None
    matrix: Matrix
    expect: frozenset[str] = frozenset()

    # -------------------------------------------------------------- system
    @property
    def os_name(self) -> str:
        os_facts = self.facts.system.os
        return "windows" if os_facts is not None and os_facts.id == "windows" else "linux"

    @property
    def in_container(self) -> bool:
        c = self.facts.system.container
        return (c is not None and c.detected) or self.facts.image is not None

    def env(self, name: str) -> str | None:
        """A variable of the probed environment; an image's own ENV fills gaps."""
        value = self.facts.env.variables.get(name)
        if value is None and self.facts.image is not None:
            value = self.facts.image.env.get(name)
        return value

    # -------------------------------------------------------------- driver
    @property
    def driver(self) -> DriverFacts:
        """Driver facts: the host's when given (a container may see no driver at all)."""
        if self.host is not None and (
            self.host.driver.version or self.host.driver.gpus or self.host.driver.cuda_version
        ):
            return self.host.driver
        return self.facts.driver

    @property
    def driver_version(self) -> Version | None:
        d = self.driver
        return Version.of(d.version) or Version.of(d.kernel_module_version)

    @property
    def driver_cuda(self) -> Version | None:
        return Version.of(self.driver.cuda_version)

    @property
    def driver_for_builds(self) -> Version | None:
        """The driver builds are judged on: its version, else the oldest driver of the CUDA
        version it provides, all some pastes state (torch's "driver too old (found version
        11070)"): the builds that run on that one run on the real driver."""
        version = self.driver_version
        if version is None and self.driver_cuda is not None:
            version = self.matrix.toolkit_driver(self.driver_cuda, self.os_name)
        return version

    def gpus(self) -> list[Gpu]:
        """GPUs from NVML (host facts first), else from torch's live view; capability
        from NVML, else torch, else the name table."""
        nvml = self.driver.gpus
        out: list[Gpu] = []
        if nvml:
            for g in nvml:
                cc, origin = self._capability(g.compute_capability, g.name, "nvml")
                out.append(
                    Gpu(
                        index=g.index,
                        name=g.name,
                        capability=cc,
                        capability_from=origin,
                        brand=g.brand,
                        uuid=g.uuid,
                        persistence_mode=g.persistence_mode,
                    )
                )
            return out
        live = self.facts.torch.live
        for d in live.devices if live is not None else []:
            cc, origin = self._capability(d.compute_capability, d.name, "torch")
            out.append(Gpu(index=d.index, name=d.name, capability=cc, capability_from=origin))
        return out

    def _capability(
        self, reported: str | None, name: str | None, origin: str
    ) -> tuple[Version | None, str]:
        cc = Version.of(reported)
        if cc is not None:
            return cc.truncate(2), origin
        model = self.matrix.gpu_by_name(name) if name else None
        if model is not None and model.ambiguous:
            # one name, several chips: say so rather than guess
            ccs = " or ".join(str(c) for c in (model.capability, *model.also))
            return None, f"name table: {model.name} is compute capability {ccs} by board"
        if model is not None:
            return model.capability, "name table (unverified)" if model.unverified else "name table"
        return None, "unknown"

    def gpus_present(self) -> bool:
        """NVIDIA GPUs seen by NVML or on the PCI bus (bound to any driver)."""
        return bool(self.driver.gpus) or bool(self.driver.pci_gpus)

    # --------------------------------------------------------------- torch
    @property
    def torch_version(self) -> Version | None:
        t = self.facts.torch
        return Version.of(t.version) if t.installed else None

    @property
    def torch_cuda(self) -> Version | None:
        t = self.facts.torch
        return Version.of(t.cuda) if t.installed else None

    @property
    def torch_is_cpu_only(self) -> bool:
        t = self.facts.torch
        return t.installed and t.cuda is None and t.hip is None

    @property
    def torch_floor(self) -> Version | None:
        """The lowest compute capability torch's CUDA build supports, as torch says it (its
        "minimum cuda capability" warning, the least of its arch list); None for a CPU build
        and for ROCm's (whose old torch printed that warning with a made-up 3.0)."""
        live = self.facts.torch.live
        if live is None or self.torch_is_cpu_only or self.facts.torch.hip:
            return None
        return Version.of(live.min_capability)

    def torch_variant(self) -> TorchVariant | None:
        """The official wheel's row of the installed torch; None for another build (NVIDIA's,
        a source build, a nightly, conda-forge's), whose arch list and cuDNN are its own."""
        tv, tc = self.torch_version, self.torch_cuda
        if tv is None or tc is None or self.torch_not_official is not None:
            return None
        return self.matrix.torch_variant(tv, tc)

    @property
    def arm_machine(self) -> bool:
        """An aarch64 machine (its own arch, or a GPU sold only in Arm systems: GH200,
        Jetson): the matrix holds the x86_64 wheels' arch lists, which say nothing there
        (as `envlock matrix` says of it)."""
        if (self.facts.system.arch or "").lower() in ("aarch64", "arm64"):
            return True
        models = (self.matrix.gpu_by_name(g.name) for g in self.gpus() if g.name)
        return any(m is not None and m.cpu == "aarch64" for m in models)

    @property
    def jetson(self) -> bool:
        """A Jetson: an L4T (tegra) kernel, or a Tegra GPU the matrix knows."""
        if jetson_kernel(self.facts.system.kernel):
            return True
        caps = (self.matrix.capability(g.capability) for g in self.gpus() if g.capability)
        return any(c is not None and c.tegra for c in caps)

    @property
    def torch_not_official(self) -> str | None:
        """Why the installed torch is not the official wheel of its version, or None."""
        t = self.facts.torch
        if not t.installed or not t.version:
            return None
        return not_the_official_wheel(t.version, self.facts.toolchain.conda_packages)

    def torch_targets(self) -> Targets | None:
        """The installed torch's arch flags; else the official wheel's arch list."""
        live = self.facts.torch.live
        if live is not None and live.arch_flags:
            parsed = parse_arch_flags(live.arch_flags)
            if parsed:
                return Targets(targets=parsed, origin="installed torch (_cuda_getArchFlags)")
        variant, tv = self.torch_variant(), self.torch_version
        if variant is not None and variant.targets is not None and tv is not None:
            return Targets(
                targets=variant.targets,
                origin=f"matrix: official torch {tv.truncate(2)} {variant.name} wheel",
            )
        return None

    # ------------------------------------------------------------- python
    @property
    def python_version(self) -> Version | None:
        py = self.facts.system.python
        return Version.of(py.version) if py is not None else None

    def expects_bf16(self) -> bool:
        return "bf16" in self.expect or any(
            (self.env(name) or "").lower().startswith(value) for name, value in BF16_ENV.items()
        )

    def expects_determinism(self) -> bool:
        if "deterministic" in self.expect or self.facts.determinism is not None:
            return True
        live = self.facts.torch.live
        return bool(live and live.flags and live.flags.deterministic_algorithms)


def basename(path: str) -> str:
    return os.path.basename(path.rstrip("/"))
