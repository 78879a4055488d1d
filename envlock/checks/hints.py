"""Fix hints shared by several checks: computed by the matrix (envlock.matrix.advice)."""

from __future__ import annotations

import shlex
from collections.abc import Collection, Mapping

from envlock.checks.context import CheckContext
from envlock.matrix import DriverSupport, Version, cuda_variant
from envlock.matrix.advice import INDEX_URL, Fit, Remedy, evaluate, remedy
from envlock.matrix.arm import for_arm
from envlock.matrix.family import PAIRED, PageRoad, load_family, load_indexes

# conda's packages of the torch family: a pip install of torch beside them leaves two torch
# installs (EL-TORCH-TWO-INSTALLS), so a fix removes those conda holds first
CONDA_TORCH_FAMILY = (
    "pytorch",
    "torchvision",
    "torchaudio",
    "torchtext",
    "pytorch-cuda",
    "pytorch-mutex",
    "cpuonly",
    "cudatoolkit",
    # conda-forge's: the metapackages that pin its pytorch (a later solve would bring it
    # back) and the C++ library under it
    "pytorch-gpu",
    "pytorch-cpu",
    "libtorch",
)


# packages whose wheels are compiled against one torch release and CUDA build: another
# torch breaks them (undefined symbols, a second CUDA runtime)
COMPILED_FOR_TORCH = ("vllm", "sgl-kernel", "xformers", "flash-attn")


def conda_held(conda: Mapping[str, str]) -> tuple[str, ...]:
    """The torch family packages conda itself installed, when conda holds torch (its
    pytorch); () otherwise. conda lists pip's installs too ("0.4.0 pypi_0", "<pip>"): those
    are pip's to replace, not conda's to remove."""

    def own(name: str) -> bool:
        entry = conda.get(name)
        return entry is not None and not entry.partition(" ")[2].startswith(("pypi", "<pip>"))

    if not own("pytorch"):
        return ()
    return tuple(n for n in CONDA_TORCH_FAMILY if own(n))


def family_pins(ctx: CheckContext, release: Version) -> dict[str, Version]:
    """The torch family members installed here, at the series matrix/family.toml pairs with
    `release`: a fix that installs another torch build names them too, since pip leaves a
    torchvision built for the old torch in place (re-checked: tests/checks/
    test_fixes_recheck.py, pytorch/pytorch#37320's torchvision 0.6 beside torch 1.3); a
    member conda holds is removed with conda's torch, so pip installs it again."""
    installed = {*ctx.facts.packages.distributions, *conda_held(ctx.facts.toolchain.conda_packages)}
    return paired_members(installed, release)


def paired_members(installed: Collection[str], release: Version) -> dict[str, Version]:
    """Of the family members `installed` names, each at the series paired with `release`."""
    row = load_family().row_for_torch(release)
    if row is None:
        return {}
    return {m: row.members[m] for m in PAIRED if m in installed and m in row.members}


def install_command(ctx: CheckContext, release: Version, variant: str) -> str:
    """pip install "torch==X.Y.*" and the paired family members from the variant's index,
    after conda's torch family where conda holds torch."""
    conda = conda_held(ctx.facts.toolchain.conda_packages)
    os_facts = ctx.facts.system.os
    # macOS wheels are PyPI's, its CPU builds (pytorch#11870)
    macos = variant == "cpu" and os_facts is not None and os_facts.id == "macos"
    pins = family_pins(ctx, release)
    line = install_line(release, variant, pins, conda, installed_here(ctx), pypi_build=macos)
    return line.replace(f" --index-url {INDEX_URL}cpu", "") if macos else line


def pinned_by(ctx: CheckContext) -> str | None:
    """Why another torch build or release is no road here: vLLM's wheel is compiled against
    the installed torch's release and CUDA (vllm._C links its libcudart), so swapping either
    breaks it (vllm#11931's 0.6.6 on torch 2.5.1+cu124 was offered 2.5 cu118; vllm-6099's
    family fix offered torch 1.13 beside vLLM's pinned 2.3). sglang's sgl-kernel, xformers
    and flash-attn wheels are compiled the same way (sglang#7083 was offered torch 2.7
    cu118 beside sgl-kernel's CUDA 12 build)."""
    dists = ctx.facts.packages.distributions
    name = next((n for n in COMPILED_FOR_TORCH if n in dists), None)
    return f"{name} {dists[name]} is built for this torch build: keep it" if name else None


def installed_here(ctx: CheckContext) -> dict[str, str]:
    """What pip sees installed: its distributions, and torch's own version where a paste
    lists no packages but names torch."""
    installed = dict(ctx.facts.packages.distributions)
    if ctx.facts.torch.installed and ctx.facts.torch.version:
        installed.setdefault("torch", ctx.facts.torch.version)
    return installed


def install_line(
    release: Version,
    variant: str,
    pins: dict[str, Version],
    conda: tuple[str, ...] = (),
    installed: Mapping[str, str] | None = None,
    *,
    pypi_build: bool = False,
) -> str:
    """The pip line; with `conda` (conda_held's names), `conda remove --force ...` first:
    PyTorch publishes no conda packages after 2.5, so pip is the road, and conda's torch
    left beside pip's is two installs. --force: conda removes only what it is told.
    With `installed` (name -> version), `pip uninstall -y` first of what the line pins and
    an installed version already satisfies: `==2.2.*` ignores the local label, so pip
    answers "Requirement already satisfied" beside 2.2.2+cpu and changes nothing.
    A release pytorch.org's page installs with exact pins (1.0-1.10: matrix/indexes.toml's
    [[release]]) gets the page's own line (page_command); `pypi_build`: PyPI's own build
    of the release (macOS's CPU wheels), no index and no tag."""
    removed = {"torch" if n == "pytorch" else n for n in conda}
    kept = {n: v for n, v in (installed or {}).items() if n not in removed}
    road = load_indexes().page_road(release, variant)
    if road is not None:
        command = page_command(road, variant, pins, kept, pypi_build=pypi_build)
        return after_conda_removal(conda, command)
    # members without CUDA/CPU builds are on no variant index: one that already pairs
    # with the release stays, one that must move comes from PyPI (pytorch#58794)
    plain, pins = split_variantless(pins)
    wanted = {"torch": release, **pins}
    extra = "".join(f' "{m}=={s}.*"' for m, s in pins.items())
    pip = f'pip install "torch=={release}.*"{extra} --index-url {INDEX_URL}{variant}'
    moved = [f'"{m}=={s}.*"' for m, s in plain.items() if not _satisfies(kept.get(m), s)]
    pypi = f" && pip install {' '.join(moved)}" if moved else ""
    return after_conda_removal(conda, uninstalled_first(wanted, kept, pip) + pypi)


def page_command(
    road: PageRoad,
    variant: str,
    pins: Mapping[str, Version],
    installed: Mapping[str, str],
    *,
    pypi_build: bool = False,
) -> str:
    """pytorch.org's line for the road's release: its exact pins ("torch==1.9.1+cu111"
    "torchvision==0.10.1+cu111" "torchaudio==0.9.1") for torch and the members `pins` names,
    with the page's option (-f .../torch_stable.html); untagged with no option for the
    build PyPI carries; for 1.0-1.1, whose page gives no pip line, the wheels downloaded
    from the build's page. A member the page's line does not name (torchtext) comes from
    PyPI at its series; what an installed version already satisfies is uninstalled first."""
    reqs = road.line.requirements(variant, untagged=pypi_build)
    named = _page_pins(reqs, variant, pins, installed)
    rest = [
        f'"{m}=={s}.*"'
        for m, s in pins.items()
        if m not in reqs and not _satisfies(installed.get(m), s)
    ]
    after = f" && pip install {' '.join(rest)}" if rest else ""
    stale = [n for n, r in named.items() if _pip_keeps(installed.get(n), r)]
    first = f"pip uninstall -y {' '.join(stale)} && " if stale else ""
    specs = " ".join(f'"{r}"' for r in named.values())
    index = None if pypi_build else road.index
    if index is not None and road.line.kind == "download":
        return (
            f"{first}download the wheels of {specs} for this Python from {index.url} and "
            f"pip install those files, pytorch.org's way for torch {road.line.torch} "
            f"{variant}{after}"
        )
    option = f" {index.option}" if index is not None else ""
    return f"{first}pip install {specs}{option}{after}"


def _page_pins(
    reqs: Mapping[str, str], variant: str, pins: Mapping[str, Version], installed: Mapping[str, str]
) -> dict[str, str]:
    """torch's and the members' exact pins from the page's line (`reqs`): a member the line
    does not name is PyPI's (page_command's rest); one without CUDA/CPU builds that already
    pairs stays; one with CUDA/CPU builds the page pins untagged (torchaudio 0.10.1) gets
    the build's tag: untagged, pip takes the highest local label the -f page lists
    (+rocm4.2) or PyPI's default build, not this one."""
    tagged = "+" in reqs["torch"]
    named = {"torch": reqs["torch"]}
    for m, series in pins.items():
        if m not in reqs or (variantless(m, series) and _satisfies(installed.get(m), series)):
            continue
        untag = tagged and "+" not in reqs[m] and not variantless(m, series)
        named[m] = f"{reqs[m]}+{variant}" if untag else reqs[m]
    return named


def _pip_keeps(version: str | None, requirement: str) -> bool:
    """pip leaves an installed `version` in place for `requirement` ("torch==1.7.1"
    beside 1.7.1+cpu: a pin without a local label ignores the installed one's)."""
    from packaging.requirements import Requirement
    from packaging.version import InvalidVersion
    from packaging.version import Version as PipVersion

    if version is None:
        return False
    try:
        return Requirement(requirement).specifier.contains(PipVersion(version), prereleases=True)
    except InvalidVersion:
        return False


def split_variantless(
    pins: Mapping[str, Version],
) -> tuple[dict[str, Version], dict[str, Version]]:
    """`pins` split into the members published without CUDA/CPU builds and the rest."""
    plain = {m: s for m, s in pins.items() if variantless(m, s)}
    return plain, {m: s for m, s in pins.items() if m not in plain}


def variantless(member: str, series: Version) -> bool:
    """A family member published without CUDA/CPU builds: torchtext always, torchaudio
    before 0.10 (its install lines name no local tag: `torchaudio==0.9.0` beside
    `torch==1.9.0+cu111`, pytorch.org's previous-versions page)."""
    return member == "torchtext" or (member == "torchaudio" and series < Version((0, 10)))


def uninstalled_first(pins: Mapping[str, Version], installed: Mapping[str, str], pip: str) -> str:
    """`pip` (a line pinning `pins` as "name==X.Y.*") after `pip uninstall -y` of each pinned
    name whose installed version already satisfies its pin: pip would leave it as it is."""
    stale = [n for n, series in pins.items() if _satisfies(installed.get(n), series)]
    return f"pip uninstall -y {' '.join(stale)} && {pip}" if stale else pip


def _satisfies(version: str | None, series: Version) -> bool:
    """pip's `==X.Y.*` against an installed version: the release prefix decides, the
    local label (+cpu, +cu117) is ignored."""
    have = Version.of(version) if version else None
    return have is not None and have.truncate(len(series.parts)) == series


def after_conda_removal(conda: tuple[str, ...], command: str) -> str:
    """`command` (one that installs torch with pip: a pip line, `envlock restore`) after
    `conda remove --force` of conda's torch family (conda_held's names; none: the command
    alone), shell-quoted. --force: conda removes only what it is told, not what depends
    on it."""
    return f"conda remove --force {shlex.join(conda)} && {command}" if conda else command


def build_road(ctx: CheckContext, road: dict[str, str]) -> dict[str, str]:
    """A road as data with the family members it reinstalls (see family_pins)."""
    if not road.get("torch") or not road.get("variant") or _keeps(ctx, road):
        return road
    pins = family_pins(ctx, Version.parse(road["torch"]))
    conda = conda_held(ctx.facts.toolchain.conda_packages)
    removal = {"conda_remove": " ".join(conda)} if conda else {}
    return {**road, **{m: str(s) for m, s in pins.items()}, **removal}


def _keeps(ctx: CheckContext, road: dict[str, str]) -> bool:
    """The road keeps the installed build (a driver upgrade alone)."""
    tv, tc = ctx.torch_version, ctx.torch_cuda
    return (
        "driver_at_least" in road
        and tv is not None
        and tc is not None
        and road["torch"] == str(tv.truncate(2))
        and road["variant"] == cuda_variant(tc)
    )


def fits_here(ctx: CheckContext, caps: list[Version]) -> list[Fit]:
    """The official builds judged for these GPUs' capabilities on this machine: its driver
    for builds, OS and Python (the matrix's evaluate, as every road here asks it)."""
    return evaluate(
        ctx.matrix,
        capabilities=caps,
        driver=ctx.driver_for_builds,
        os_name=ctx.os_name,
        python=ctx.python_version,
    )


def remedy_for(
    ctx: CheckContext,
    *,
    exclude_installed: bool = True,
    need_gpus: bool = True,
    full_only: bool = False,
    own_kernels: bool = False,
) -> Remedy | None:
    """The roads out for this machine: the nearest official build that runs on these GPUs,
    this driver and this Python, and/or the driver that the installed build (or the nearest
    one) needs. `own_kernels`: builds with the GPUs' own kernels (SASS) before those that
    run them through PTX JIT only, where one runs (a fix for missing kernels)."""
    caps = [g.capability for g in ctx.gpus() if g.capability is not None]
    if not caps and need_gpus:
        return None
    fits = fits_here(ctx, caps)
    # own kernels: SASS for every GPU; a build that runs through the driver's minor-version
    # compatibility keeps its place (pytorch#57922: 1.8 cu111 on 450.80.02, not 1.7 cu110)
    if ctx.arm_machine:  # aarch64: only the releases that publish Arm CUDA wheels
        fits = for_arm(fits)
    clean = [f for f in fits if not f.arch_unknown and not _jit_only(f)]
    if own_kernels and any(f.runs for f in clean):
        fits = clean
    tc = ctx.torch_cuda
    # a release the paste names without its build: the roads nearest to it (MinkowskiEngine-620)
    return remedy(
        fits,
        installed=ctx.torch_version or Version.of(ctx.facts.torch.version),
        installed_variant=cuda_variant(tc) if tc is not None else ctx.facts.torch.build,
        exclude_installed=exclude_installed,
        full_only=full_only,
    )


def build_label(b: Fit) -> str:
    """'torch 2.1 cu118', and how this driver runs it where that is minor-version
    compatibility (PTX JIT unavailable: worth knowing before choosing it), or the driver it
    needs where the driver is unknown."""
    compat = b.driver is not None and b.driver.support is DriverSupport.MINOR_COMPAT
    minor = ", through this driver's minor-version compatibility" if compat else ""
    # the driver unknown (not in a paste): the one this build needs (vllm#21633's cu132)
    need = (
        f", needs an NVIDIA driver >= {b.needs_driver}"
        if b.driver is None and b.needs_driver is not None
        else ""
    )
    return f"torch {b.release.release} {b.variant.name}{minor}{need}"


def _jit_only(f: Fit) -> bool:
    """Some GPU runs this build only through PTX JIT (no SASS for it)."""
    return any(c.sass is None and c.ptx is not None for c in f.coverage.values())


def remedy_text(r: Remedy | None, ctx: CheckContext) -> str | None:
    """'pip install ... (torch 2.0 cu118)'; 'or upgrade the driver to >= X' when that road
    exists too."""
    if r is None:
        return None
    parts: list[str] = []
    if r.build is not None:
        b = r.build
        command = install_command(ctx, b.release.release, b.variant.name)
        parts.append(f"{command}  ({build_label(b)})")
    if r.driver_at_least is not None and r.driver_build is not None:
        keep = r.driver_build
        tv = ctx.torch_version
        same = tv is not None and keep.release.release == tv.truncate(2)
        installed = (
            same
            and ctx.torch_cuda is not None
            and (cuda_variant(ctx.torch_cuda) == keep.variant.name)
        )
        what = (
            f"keep torch {ctx.facts.torch.version}"
            if installed
            else install_command(ctx, keep.release.release, keep.variant.name)
        )
        parts.append(f"upgrade the NVIDIA driver to >= {r.driver_at_least} and {what}")
    if r.driver_first:  # roads by cost: keeping the release before changing it
        parts.reverse()
    return "; or ".join(parts) if parts else None


def wheel_hint(ctx: CheckContext, *, own_kernels: bool = False) -> str | None:
    """The computed fix as text (see remedy_for)."""
    return remedy_text(remedy_for(ctx, own_kernels=own_kernels), ctx)


def roads(ctx: CheckContext, *, own_kernels: bool = False) -> list[dict[str, str]]:
    """The computed fix as data, for a finding's evidence ("fix.roads")."""
    r = remedy_for(ctx, own_kernels=own_kernels)
    return [build_road(ctx, road) for road in r.roads()] if r is not None else []
