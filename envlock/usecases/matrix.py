"""envlock matrix: which torch builds run on given GPUs and driver, and how to install the
newest that does. What is not given comes from the facts (this machine's, probed without
importing torch, or a file's)."""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from envlock.collect import Source
from envlock.errors import UsageError

if TYPE_CHECKING:
    from envlock.matrix.advice import Fit
    from envlock.matrix.model import Matrix
    from envlock.matrix.versions import Version


@dataclass(frozen=True, kw_only=True, slots=True)
class TorchBuild:
    """One torch release + CUDA variant, judged."""

    torch: str
    variant: str
    cuda: str
    runs: bool | None  # None: cannot tell
    runs_with_driver_at_least: str | None  # the driver is unknown: runs with one >= this
    driver_support: str | None  # full, minor-version compatibility, too old (None: no driver)
    problems: tuple[str, ...]  # why it does not run
    caveats: tuple[str, ...]  # runs, but ...
    pip: str  # the command that installs it


@dataclass(frozen=True, kw_only=True, slots=True)
class DriverUpgrade:
    """What it takes to run the newest release: a driver upgrade alone."""

    torch: str
    variant: str
    driver_at_least: str


@dataclass(frozen=True, kw_only=True, slots=True)
class MatrixAdvice:
    """The builds judged against the GPUs, driver, OS and Python; `to_dict()` is the
    `--format json` document."""

    gpus: tuple[str, ...]  # how each GPU was given or found
    capabilities: tuple[str, ...]
    driver: str | None
    os: str
    python: str | None
    best: TorchBuild | None  # the newest that runs (None: none does, or the table does not apply)
    upgrade_driver_for_newest: DriverUpgrade | None
    fits: tuple[TorchBuild, ...]  # every build, newest release and CUDA first
    sources: dict[str, str]  # where the matrix's rows come from
    does_not_apply: str | None = None  # why this table says nothing (a Jetson)
    # --torch: the release asked about (its builds only: fits, best, the driver upgrade),
    # and where none of them runs here, the nearest other release that does
    torch: str | None = None
    other_release: TorchBuild | None = None
    # the best build's wheel on its index for this Python and platform: True found, False
    # missing, None not checked (offline, or not asked); the note says which
    wheel_found: bool | None = None
    wheel_check: str | None = None

    @property
    def runs(self) -> bool:
        return self.best is not None

    def to_dict(self) -> dict[str, object]:
        out = dataclasses.asdict(self)
        for key in ("does_not_apply", "wheel_found", "wheel_check", "torch", "other_release"):
            if out[key] is None:
                del out[key]
        return out


@dataclass(kw_only=True, slots=True)
class _Asked:
    """What the advice is for, as it is gathered: the options first, then the facts."""

    capabilities: list[Version] = field(default_factory=list)
    described: list[str] = field(default_factory=list)  # how each GPU was given or found
    arm: list[str] = field(default_factory=list)  # GPUs sold only in aarch64 systems
    driver: Version | None = None
    python: Version | None = None
    os_name: str | None = None
    release: Version | None = None  # --torch: only this release's builds
    variant: str | None = None  # --torch X.Y.Z+cuXYZ: only this build
    # the torch family members the facts list: each build's pip line reinstalls them at
    # the series paired with it (pip would leave a torchvision built for the old torch)
    family: tuple[str, ...] = ()
    # conda's torch family where conda holds torch: each pip line removes it first
    conda: tuple[str, ...] = ()
    # what pip sees installed (name -> version): a pip line for a build of the installed
    # release uninstalls it first, or pip calls it already satisfied
    installed: dict[str, str] = field(default_factory=dict)
    triton_kernels: bool = False  # a package runs Triton kernels on every launch
    python_unknown: bool = False  # the facts are another machine's and name no Python


def matrix_advice(
    source: Source | None,
    *,
    gpu: str | None,
    capability: str | None,
    driver: str | None,
    os_name: str | None,
    python_version: str | None,
    check_index: bool = False,
    torch: str | None = None,
) -> MatrixAdvice:
    """The builds that run on the GPU (`gpu`'s name or its `capability`) with `driver`
    and `python_version`; what is not given comes from the facts of `source`. With
    `torch` ("2.6", "1.8.1", "2.7.0+cu128"), only the builds of that release (or that
    one build) are judged. With `check_index`, the best build's wheel is looked up on its
    index (PEP 691) for this Python and this machine's CPU and glibc; offline that is a
    note, never an error."""
    from envlock.matrix import load_matrix

    matrix = load_matrix()
    asked = _given(matrix, gpu, capability)
    if torch is not None:
        asked.release, asked.variant = _torch_asked(matrix, torch)
    asked.driver = _version(driver, "--driver") if driver else None
    asked.python = _version(python_version, "--python-version") if python_version else None
    asked.os_name = os_name
    source = source or Source()
    if not asked.capabilities or asked.driver is None or source.facts_file or source.python:
        _from_facts(source, matrix, asked)
    if not asked.capabilities and asked.driver is None:
        raise UsageError(
            "no GPU or driver given and none found here: use --gpu NAME or --capability X.Y, "
            "and --driver VERSION"
        )
    advice = _advice(matrix, asked)
    if asked.arm and _jetson(matrix, asked):
        return _for_jetson(advice, asked.arm)
    return _confirmed(advice) if check_index else advice


def _confirmed(advice: MatrixAdvice) -> MatrixAdvice:
    """The best build's wheel confirmed on its index for this machine's platform (Linux
    wheels: manylinux tags need the glibc)."""
    import platform

    best = advice.best
    if best is None or advice.os != "linux" or advice.python is None:
        return advice
    from envlock.install.wheelcheck import confirm_torch_wheel

    libc, libc_version = platform.libc_ver()
    check = confirm_torch_wheel(
        best.torch,
        best.variant,
        python=advice.python,
        arch=platform.machine(),
        glibc=libc_version if libc == "glibc" and libc_version else None,
    )
    return dataclasses.replace(advice, wheel_found=check.found, wheel_check=check.note)


def _advice(matrix: Matrix, asked: _Asked) -> MatrixAdvice:
    from envlock.matrix.advice import best, evaluate

    caps = sorted(set(asked.capabilities))
    os_name = asked.os_name or "linux"
    python = _python(asked)
    every = evaluate(matrix, capabilities=caps, driver=asked.driver, os_name=os_name, python=python)
    if asked.arm:  # aarch64: the builds published for Arm only (matrix/arm.py)
        from envlock.matrix.arm import for_arm

        every = for_arm(every, caveat=True)
    fits = [f for f in every if _selected(f, asked)]
    loads = [f for f in fits if _triton_loads(matrix, f, asked)]
    chosen = best(_whole_family(loads, asked.family)) or best(loads)
    return MatrixAdvice(
        gpus=tuple(asked.described),
        capabilities=tuple(str(c) for c in caps),
        driver=str(asked.driver) if asked.driver else None,
        os=os_name,
        python=str(python.truncate(2)) if python else None,
        best=_build(chosen, asked) if chosen else None,
        upgrade_driver_for_newest=_upgrade(fits, chosen),
        fits=tuple(_build(f, asked) for f in fits),
        sources=matrix.sources,
        torch=_torch_name(asked),
        other_release=_other_release(every, asked) if chosen is None else None,
    )


def _triton_loads(matrix: Matrix, f: Fit, asked: _Asked) -> bool:
    """Where an installed package runs Triton kernels on every launch (vLLM >= 0.8), a
    build whose pinned Triton's kernels this driver cannot load does not run the job
    (EL-TRITON-DRIVER-TOO-OLD: torch cu118 on a 470 driver, vllm#6099)."""
    from envlock.checks.triton import triton_loads

    if not asked.triton_kernels:
        return True
    caps = list(asked.capabilities)
    return triton_loads(matrix, f.release.release, caps, asked.driver, asked.os_name or "linux")


def _whole_family(fits: list[Fit], family: tuple[str, ...]) -> list[Fit]:
    """The builds of releases the matrix pairs every installed family member with: moving
    torch to a release whose torchaudio is not known (none in matrix/family.toml for torch
    2.12-2.14) would leave the old torchaudio beside it, a family mismatch (vllm#20484's
    torchaudio 2.8 nightly)."""
    from envlock.checks.hints import paired_members
    from envlock.matrix.family import PAIRED

    held = [m for m in PAIRED if m in family]
    return [f for f in fits if len(paired_members(held, f.release.release)) == len(held)]


def _selected(f: Fit, asked: _Asked) -> bool:
    """--torch: only the asked release's builds (or the one build asked)."""
    if asked.release is not None and f.release.release != asked.release:
        return False
    return asked.variant is None or f.variant.name == asked.variant


def _torch_name(asked: _Asked) -> str | None:
    if asked.release is None:
        return None
    return f"{asked.release}+{asked.variant}" if asked.variant else str(asked.release)


def _other_release(every: list[Fit], asked: _Asked) -> TorchBuild | None:
    """No build of the asked release runs: the nearest release that does (remedy's order,
    the newer of two equally near)."""
    if asked.release is None:
        return None
    from envlock.matrix.advice import remedy

    # none of the asked release's builds runs (best() found none), so the build road
    # remedy finds, nearest to it, is another release's
    road = remedy(every, installed=asked.release, installed_variant=None).build
    return _build(road, asked) if road is not None else None


def _torch_asked(matrix: Matrix, text: str) -> tuple[Version, str | None]:
    """--torch X.Y[.Z][+cuXYZ]: the release in the matrix, and the CUDA build if named."""
    public, _, local = text.strip().partition("+")
    release = _version(public, "--torch").truncate(2)
    row = matrix.torch_release(release)
    if row is None:
        known = sorted(r.release for r in matrix.torch)
        raise UsageError(
            f"--torch {text!r}: torch {release} is not an official release this table knows "
            f"(it knows {known[0]}-{known[-1]})"
        )
    if not local:
        return release, None
    if row.variant(local) is None:
        names = ", ".join(v.name for v in row.variants)
        raise UsageError(
            f"--torch {text!r}: torch {release} has no {local} build in this table of CUDA "
            f"wheels (its builds: {names})"
        )
    return release, local


def _python(asked: _Asked) -> Version | None:
    """The Python the wheels must fit: the facts', else this one's; None where the facts
    are another machine's and name none (every Python)."""
    return None if asked.python_unknown else asked.python or _this_python()


def _elsewhere(source: Source) -> bool:
    """The facts describe another machine or interpreter than envlock's own."""
    return bool(source.facts_file or source.image or source.container or source.pasted)


def _this_python() -> Version:
    """The interpreter envlock runs under: the one the host probe reports."""
    from envlock.matrix import Version

    return Version((sys.version_info.major, sys.version_info.minor))


def _jetson(matrix: Matrix, asked: _Asked) -> bool:
    """A Tegra GPU (Jetson): JetPack, not the server-Arm wheels."""
    infos = (matrix.capability(c) for c in asked.capabilities)
    return any(i is not None and i.tegra for i in infos)


def _for_jetson(advice: MatrixAdvice, arm: list[str]) -> MatrixAdvice:
    """The official aarch64 wheels are SBSA builds: on a Jetson the table names no build
    and says which builds are its own."""
    from envlock.matrix.arm import JETSON

    return dataclasses.replace(advice, best=None, does_not_apply=f"{', '.join(arm)}: {JETSON}")


def _given(matrix: Matrix, gpu: str | None, capability: str | None) -> _Asked:
    """The GPU the options name: its capability, or its model name in the matrix."""
    asked = _Asked()
    if capability:
        cc = _version(capability, "--capability").truncate(2)
        asked.capabilities.append(cc)
        asked.described.append(f"compute capability {cc}")
    elif gpu:
        model = matrix.gpu_by_name(gpu)
        if model is None:
            raise UsageError(
                f"unknown GPU {gpu!r}: give its compute capability with --capability X.Y"
            )
        if model.ambiguous:
            ccs = [str(c) for c in (model.capability, *model.also)]
            raise UsageError(
                f"{model.name} is compute capability {' or '.join(ccs)} depending on the "
                f"board: give it with {' or '.join(f'--capability {c}' for c in ccs)} "
                "(nvidia-smi --query-gpu=compute_cap --format=csv says which)"
            )
        asked.capabilities.append(model.capability)
        if model.cpu != "x86_64":
            asked.arm.append(model.name)
        note = ", UNVERIFIED" if model.unverified else ""
        asked.described.append(f"{model.name} ({model.capability}{note})")
    return asked


def _from_facts(source: Source, matrix: Matrix, asked: _Asked) -> None:
    """What the options left out, from the facts: the GPUs, the driver, the Python and
    the OS."""
    from envlock.checks.context import CheckContext
    from envlock.checks.hints import conda_held, installed_here
    from envlock.checks.triton import kernels_certain
    from envlock.collect import collect_facts

    # the matrix needs no torch import
    facts = collect_facts(source._replace(torch_live=False))
    ctx = CheckContext(facts=facts, host=None, matrix=matrix)
    if not asked.capabilities:
        for g in ctx.gpus():
            if g.capability is not None:
                asked.capabilities.append(g.capability)
                asked.described.append(f"GPU {g.index}: {g.name} ({g.capability})")
        machine = (facts.system.arch or "").lower()
        if asked.capabilities and machine in ("aarch64", "arm64"):
            asked.arm.append(f"this {machine} machine's GPU")
    asked.conda = conda_held(facts.toolchain.conda_packages)
    asked.family = (*facts.packages.distributions, *asked.conda)
    asked.installed = installed_here(ctx)
    asked.triton_kernels = kernels_certain(ctx)
    if asked.driver is None:
        # its version, else the oldest driver of the CUDA version it provides (a paste may
        # state only that: torch's "driver too old (found version 11070)")
        asked.driver = ctx.driver_for_builds
    if asked.python is None:
        asked.python = ctx.python_version
    # facts of another machine (a paste, a facts file, an image) that name no Python: not
    # known, so every Python (envlock's own would filter out all torch 1.x, lhotse#793)
    asked.python_unknown = asked.python is None and _elsewhere(source)
    if asked.os_name is None:
        asked.os_name = ctx.os_name


def _upgrade(fits: list[Fit], chosen: Fit | None) -> DriverUpgrade | None:
    """When the newest release does not run: its variant that fails only on the driver,
    and the driver it needs."""
    newest = fits[0].release.release if fits else None
    if chosen is not None and chosen.release.release == newest:
        return None
    # the driver that clears it, where one exists for these GPUs (never past the last
    # driver branch of a legacy architecture)
    needs: list[tuple[Version, Fit]] = [
        (f.driver_needed, f)
        for f in fits
        if f.release.release == newest and f.driver_needed is not None and not f.arch_unknown
    ]
    if not needs:
        return None
    needed, fit = min(needs, key=lambda pair: pair[0])
    return DriverUpgrade(torch=str(newest), variant=fit.variant.name, driver_at_least=str(needed))


def _build(f: Fit, asked: _Asked) -> TorchBuild:
    from envlock.checks.hints import install_line, paired_members

    pins = paired_members(asked.family, f.release.release)
    line = install_line(f.release.release, f.variant.name, pins, asked.conda, asked.installed)
    if asked.os_name == "windows":  # PowerShell 5.1 has no && (checks/shells.py)
        from envlock.checks.shells import one_command_a_line

        line = one_command_a_line(line)
    return TorchBuild(
        torch=str(f.release.release),
        variant=f.variant.name,
        cuda=str(f.variant.cuda),
        runs=f.runs,
        runs_with_driver_at_least=str(f.needs_driver) if f.runs_if_driver else None,
        driver_support=f.driver.support.value if f.driver else None,
        problems=tuple(f.problems),
        caveats=tuple(f.caveats),
        pip=line,
    )


def _version(text: str, option: str) -> Version:
    from envlock.matrix import Version

    try:
        return Version.parse(text)
    except ValueError:
        raise UsageError(f"{option} {text!r}: not a version number") from None
