"""EL-FAMILY-MISMATCH's fixes (checks/family.py finds the mismatch): the paired member
from torch's own index, or torch moved to the release the member was built for, at a
build that release had; for NVIDIA's or a source build of torch, the member that came
with it or one built against it."""

from __future__ import annotations

import re

from packaging.version import InvalidVersion
from packaging.version import Version as PackagingVersion

from envlock.checks.context import CheckContext
from envlock.checks.hints import installed_here, pinned_by, split_variantless, uninstalled_first
from envlock.matrix import DriverSupport, Version, variant_cuda
from envlock.matrix.builds import CondaTorch
from envlock.matrix.family import (
    PAIRED,
    Family,
    FamilyRow,
    elsewhere,
    index_for,
    load_family,
    load_indexes,
    pip_line,
)

_REPOS = {"torchvision": "vision", "torchaudio": "audio", "torchtext": "text"}
# where a pip line's index option begins (after it, `keep` would name the index's package)
_OPTIONS = (" --index-url ", " --extra-index-url ", " -f ", " as their +")
# a nightly build: its series and night ("0.15.0.dev20221203+cpu" -> "0.15.0", "20221203")
_NIGHTLY = re.compile(r"^(\d+(?:\.\d+)*)\.dev(\d{8})(?:\+|$)")


def nightly_fix(package: str, version: str, torch_version: str | None, tag: str | None) -> str:
    """A nightly member beside a nightly torch: the member of torch's night from the
    nightly index of torch's variant (it publishes each night's torch with that night's
    members, and pins them to it); "" where either is no nightly or torch's variant is not
    known. A released member's pin would replace the nightly torch with a release."""
    member, torch = _NIGHTLY.match(version), _NIGHTLY.match(torch_version or "")
    if member is None or torch is None or not tag:
        return ""
    indexes = load_indexes()
    index = indexes.nightly_index(tag)
    if index is None:  # a retired tag (cu117): its nightly index is gone with all its nights
        gone = (
            f"download.pytorch.org publishes no nightly index for {tag} any more (pytorch.org "
            f"names nightly indexes for {', '.join(indexes.nightly)})"
        )
        return f"{gone}: {_released(package, member.group(1), tag)}"
    pin = f"{package}=={member.group(1)}.dev{torch.group(2)}"
    return (
        f'pip install --pre --no-deps --force-reinstall "{pin}" --index-url {index} (the '
        f"nightly index keeps recent nights only: where {torch.group(2)}'s is gone, reinstall "
        f"torch and {package} together from it, with --pre)"
    )


def _released(package: str, series: str, tag: str) -> str:
    """torch and `package` moved together to the release the nightly member's series became
    (torchvision 0.15.0.dev -> torch 2.0), from that release's index for `tag`."""
    row = load_family().torch_for(package, Version.parse(series))
    index = index_for(row.torch, tag) if row is not None else None
    if row is None or index is None or index.form == "find-links":
        return f"install torch and {package} together from one of those with --pre"
    pins = f'"torch=={row.torch}.*" "{package}=={row.members[package]}.*"'
    # uninstalled first: pip takes the installed nightly as satisfying "==0.15.*"
    line = f"pip uninstall -y torch {package} && pip install {pins} {index.option}"
    return f"move torch and {package} to their release together: {line}"


def _held(ctx: CheckContext) -> set[str]:
    """The family members installed here (moving torch moves each of them too)."""
    return {m for m in PAIRED if m in ctx.facts.packages.distributions}


def _older_tag(ctx: CheckContext, release: Version, torch_tag: str | None) -> str | None:
    """The build of `release` to move torch to: torch's own variant where that release had
    it, else its newest CUDA variant no newer than torch's (this driver runs torch's, so it
    runs that one); "" where the release had neither (torch 2.1 had no cu124: naming it is
    an install that cannot happen). No tag (PyPI's default build): None, no index needed."""
    have = variant_cuda(torch_tag) if torch_tag is not None else None
    if torch_tag is None or have is None:
        return torch_tag  # PyPI's default, +cpu (every release has one), ROCm: as before
    entry = ctx.matrix.torch_release(release)
    if entry is None or entry.variant(torch_tag) is not None:
        return torch_tag
    older = [(v.cuda, v.name) for v in entry.variants if v.cuda <= have]
    return max(older)[1] if older else ""


def _pip(
    pins: dict[str, Version], tag: str | None, keep: str = "", torch: str | None = None
) -> str:
    """pip_line, with the members published without CUDA/CPU builds (torchtext; torchaudio
    before 0.10, as hints.install_line) in their own line from PyPI: no variant index is
    known to carry them, and pip would answer "No matching distribution" there. `keep`
    (kept_torch's pin) goes into each line."""
    plain, rest = split_variantless(pins)
    lines = [pip_line(rest, tag, torch)] if rest else []
    if plain:
        lines.append(pip_line(plain, None))
    return " && ".join(_keeping(line, keep) for line in lines)


def _keeping(line: str, keep: str) -> str:
    """`line` (pip install "member==X.Y.*" ...) with `keep` after its last pin."""
    if not keep or not line.startswith(("pip install ", "install ")):
        return line  # a member from the place torch came from (elsewhere()) keeps torch there
    cut = min((i for o in _OPTIONS if (i := line.find(o)) >= 0), default=len(line))
    return f"{line[:cut]} {keep}{line[cut:]}"


def kept_torch(ctx: CheckContext) -> str:
    """'"torch==X.Y.Z"' for a final release of torch, else "": each member wheel pins one torch
    patch (torchvision 0.17.2 and torchtext 0.17.2 require torch==2.2.2), so a member fix
    `"torchvision==0.17.*"` alone lets pip take the newest member and move torch with it
    (vllm#4252: torch 2.2.1, which vLLM pins). The installed 2.2.1+cu121 satisfies
    "torch==2.2.1" (no local label), so pip keeps it and takes the member built for it. A
    nightly, pre-release or source build is on no index under its version: nothing to pin."""
    t = ctx.facts.torch
    try:
        v = PackagingVersion(t.version) if t.installed and t.version else None
    except InvalidVersion:
        return ""
    if v is None or v.is_prerelease or v.is_devrelease or v.is_postrelease:
        return ""
    return f'"torch=={v.public}"'


def source_fix(package: str, row: FamilyRow | None) -> str:
    """A member for NVIDIA's or a source build of torch: built against that torch, never
    the released wheel (pip would also replace the torch it needs with PyPI's)."""
    series = row.members.get(package) if row else None
    ref = f"@v{series}.0" if series else ""
    return (
        f"pip uninstall -y {package}; use the {package} that came with this torch (NGC "
        f"containers and JetPack ship one), or build it against this torch: pip install "
        f"--no-build-isolation --no-deps git+https://github.com/pytorch/{_REPOS[package]}.git{ref}"
    )


def member_fix(
    package: str,
    version: str,
    public: Version | None,
    row: FamilyRow | None,
    family: Family,
    torch_tag: str | None,
    ctx: CheckContext,
) -> str:
    if line := nightly_fix(package, version, ctx.facts.torch.version, torch_tag):
        return line
    if row is not None and package in row.members:
        pin = {package: row.members[package].truncate(2)}
        pip = _pip(pin, torch_tag, kept_torch(ctx), ctx.facts.torch.version)
        line = uninstalled_first(pin, installed_here(ctx), pip)
        other = family.torch_for(package, public) if public is not None else None
        tag = _older_tag(ctx, other.torch, torch_tag) if other is not None else ""
        if (kept := pinned_by(ctx)) is not None:
            return f"{line} ({kept})"
        if other is not None and other.torch != row.torch and tag != "":
            held = _held(ctx)
            pins = {"torch": other.torch, package: other.members[package]}
            pins |= {m: s for m, s in other.members.items() if m != package and m in held}
            move = _pip(pins, tag)
            if move.startswith("pip install "):  # a release with no index to name: no road
                line += f"; or move torch to the release {package} {version} was built for: "
                line += move
        return line
    # not a member the matrix pairs: a package built for another torch
    return (
        f"install a {package} release built for this torch (its requirements name the torch "
        f"it supports), or rebuild it: pip install --no-build-isolation --no-cache-dir "
        f"--force-reinstall --no-deps --no-binary {package} {package}"
    )


def two_installs_fix(
    ctx: CheckContext, conda_version: str, pip_version: str, built: CondaTorch | None
) -> str:
    """EL-TORCH-TWO-INSTALLS' roads: keep conda's pytorch, or remove it and keep pip's torch.
    Conda's first, unless its build cannot serve this machine (a CPU build beside NVIDIA
    GPUs, vllm-16006; a CUDA build this driver cannot run, pytorch-28321) or vLLM's wheel
    is built for pip's torch (then pip's is the only road)."""
    conda_road = (
        "pip uninstall -y torch (repeat until pip finds none), then conda install "
        f"--force-reinstall pytorch={conda_version}{_channels(ctx, built)}"
    )
    public, _, tag = pip_version.partition("+")
    index = index_for(Version.of(public), tag)
    # a find-links page holds every build: the pin carries the tag, as pytorch.org's does
    pin = pip_version if index is not None and index.form == "find-links" else public
    pip_road = (
        f"conda remove --force pytorch, then pip install --force-reinstall --no-deps "
        f'"torch=={pin}"' + (f" {index.option}" if index else "")
    )
    if tag and index is None:
        pip_road = (
            f"conda remove --force pytorch, then reinstall torch {pip_version} with "
            f"--force-reinstall --no-deps from the place it came from ({_unlisted(pip_version)})"
        )
    if (kept := pinned_by(ctx)) is not None:
        return f"keep pip's torch {pip_version} ({kept}): {pip_road}"
    why = _conda_build_unusable(ctx, built)
    if why is not None:
        return f"keep pip's torch {pip_version} ({why}): {pip_road}; or {conda_road}"
    return (
        f"keep one installer for torch and its family: {conda_road}; or conda remove "
        "--force pytorch and install torch with pip alone"
    )


def _unlisted(torch: str) -> str:
    """Why no index is named for this torch build (elsewhere()'s first clause)."""
    return elsewhere("torch", torch, torch.partition("+")[2]).partition(":")[0]


def _channels(ctx: CheckContext, built: CondaTorch | None) -> str:
    """The channels conda's pytorch came from, as its build string says (the pytorch
    channel's py3.8_cuda11.3_cudnn8.3.2_0, conda-forge's cuda118_py310h...): without them
    the default channels answer with their own pytorch build. pytorch-cuda's CUDA packages
    come from the nvidia channel (pytorch.org's `-c pytorch -c nvidia`)."""
    if built is None:
        return ""
    nvidia = built.channel == "pytorch" and "pytorch-cuda" in ctx.facts.toolchain.conda_packages
    return f" -c {built.channel}" + (" -c nvidia" if nvidia else "")


def _conda_build_unusable(ctx: CheckContext, built: CondaTorch | None) -> str | None:
    """Why conda's pytorch build cannot serve this machine, or None (unknown, or it can)."""
    if built is None or not ctx.facts.driver.gpus:
        return None
    if built.cpu:
        return "conda's pytorch is a CPU build and this machine has NVIDIA GPUs"
    driver = ctx.driver_version
    cuda = Version.of(built.cuda) if built.cuda else None
    if cuda is None or driver is None:
        return None
    verdict = ctx.matrix.driver_support(driver, cuda, ctx.os_name)
    if verdict.support is DriverSupport.TOO_OLD:
        return f"driver {ctx.facts.driver.version} cannot run conda's CUDA {built.cuda} build"
    return None
