"""EL-FAMILY-MISMATCH: the torch family against the installed torch.

Three views, each from facts alone:
- Requires-Dist: every installed distribution's requirements on a family member
  (facts.packages.requires), evaluated with packaging's requirements and markers
  against what is installed, as `pip check` does;
- the release pairings of matrix/family.toml (torchvision 0.29 goes with torch
  2.14), which catch a pin that is too loose (">=2.14" lets torch 2.15 in); triton
  is left to torch's own pin;
- local tags: a +cu126 torchvision next to a +cu130 torch is a mismatch even
  when the versions pair.
The fix is one pip line: the series the installed torch's row names, from the
index of torch's own local tag.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from envlock.checks.builtfor import other_torch_builds
from envlock.checks.context import CheckContext
from envlock.checks.familydev import (
    Problem,
    after_causes,
    public,
    stated_release,
    symptoms,
    unreleased,
    without_cuda,
)
from envlock.checks.familyfix import member_fix, source_fix, two_installs_fix
from envlock.checks.pypidefault import consequences, pypi_defaults
from envlock.checks.registry import check
from envlock.facts import RequiresFacts
from envlock.findings import Finding, Severity
from envlock.matrix import Version
from envlock.matrix.builds import (
    NVIDIA,
    SOURCE,
    conda_torch,
    is_released,
    torch_origin,
    two_installs,
)
from envlock.matrix.family import FAMILY, PAIRED, Family, FamilyRow, load_family

if TYPE_CHECKING:  # at run time packaging is imported inside the functions that use it
    from packaging.requirements import Requirement


# The local tags that name a build variant (PyTorch's wheel indexes); a source build's tag
# is its git hash ("1.7.0a0+9ddd3df"), which differs between torch and torchvision by design.
_VARIANT_TAG = re.compile(r"(cpu|cu\d{2,3}|rocm\d+(\.\d+)*|xpu)(\.|$)")


def _local(version: str | None) -> str | None:
    if not version or "+" not in version:
        return None
    return version.split("+", 1)[1].lower()


def _variant(version: str | None) -> str | None:
    """The build variant a local tag names ("cu130", "cpu", "rocm6.2"), or None."""
    tag = _local(version)
    return tag if tag is not None and _VARIANT_TAG.match(tag) else None


_NAMES_PYTHON = re.compile(r"\bpython_(?:full_)?version\b")


def _marker_env(ctx: CheckContext) -> dict[str, str]:
    """The marker environment of the facts' interpreter (packaging fills in what it does
    not name from envlock's own interpreter: every key is named)."""
    py = ctx.facts.system.python
    version = py.version if py else ""
    parts = version.split(".")
    impl = (py.implementation if py else "CPython").lower()
    return {
        "python_version": ".".join(parts[:2]),
        "python_full_version": version,
        "implementation_name": impl,
        "platform_python_implementation": py.implementation if py else "CPython",
        "platform_system": "Windows" if ctx.os_name == "windows" else "Linux",
        "sys_platform": "win32" if ctx.os_name == "windows" else "linux",
        "os_name": "nt" if ctx.os_name == "windows" else "posix",
        "platform_machine": ctx.facts.system.arch or "x86_64",
        "extra": "",
    }


def _installed(ctx: CheckContext) -> dict[str, str]:
    found = dict(ctx.facts.packages.distributions)
    for r in ctx.facts.packages.requires:
        found.setdefault(r.distribution, r.version)
    if ctx.facts.torch.installed and ctx.facts.torch.version:
        found["torch"] = ctx.facts.torch.version  # with its local tag
    return found


def _applicable(line: str, env: dict[str, str], python_unknown: bool) -> Requirement | None:
    """The requirement a Requires-Dist line names, or None where pip check would skip it:
    a line or marker it cannot parse or evaluate, or a marker false in `env`."""
    from packaging.markers import InvalidMarker, UndefinedComparison, UndefinedEnvironmentName
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        req = Requirement(line)
        if req.marker is not None and python_unknown and _NAMES_PYTHON.search(str(req.marker)):
            return None
        if req.marker is not None and not req.marker.evaluate(env):
            return None
    except (
        InvalidRequirement,
        InvalidMarker,
        UndefinedComparison,
        UndefinedEnvironmentName,
        ValueError,  # a version in the marker packaging's int() refuses
    ):
        return None  # pip check skips what it cannot parse too
    return req


def _unmet(
    requirer: RequiresFacts, line: str, req: Requirement, installed: dict[str, str]
) -> Problem | None:
    """The problem with one family requirement of `requirer`, or None when it is met or
    cannot be judged."""
    from packaging.utils import canonicalize_name
    from packaging.version import InvalidVersion
    from packaging.version import Version as Pep440

    name = canonicalize_name(req.name)
    if name not in FAMILY:
        return None
    have = installed.get(name)
    # torch's own pins (triton) are reported on the member they name
    package, version = (
        (name, have or "(not installed)")
        if requirer.distribution == "torch"
        else (requirer.distribution, requirer.version)
    )
    if have is None:
        if name == "torch" or requirer.distribution in FAMILY:
            return Problem(
                package,
                version,
                f"{requirer.distribution} requires {line.strip()}, not installed",
                "Requires-Dist",
            )
        return None
    try:
        ok = req.specifier.contains(Pep440(public(have)), prereleases=True)
    except (InvalidVersion, ValueError):  # not PEP 440, or digits int() refuses
        return None
    if ok:
        return None
    return Problem(
        package,
        version,
        f"{requirer.distribution} requires {req.name}{req.specifier}, installed {name} {have}",
        "Requires-Dist",
    )


def _requires_dist(ctx: CheckContext, installed: dict[str, str]) -> Iterator[Problem]:
    from envlock.versions import parse_or_none

    env = _marker_env(ctx)
    # A Python version that is not one (a 5,000-digit part would crash packaging's int())
    # leaves the markers that name it unknown: their requirements are skipped, as pip
    # check skips what it cannot evaluate.
    python_unknown = parse_or_none(env["python_full_version"]) is None
    for r in ctx.facts.packages.requires:
        for line in r.requires:
            req = _applicable(line, env, python_unknown)
            problem = None if req is None else _unmet(r, line, req, installed)
            if problem is not None:
                yield problem


def _pairing(
    family: Family, torch: Version, installed: dict[str, str], torch_version: str | None
) -> Iterator[Problem]:
    row = family.row_for_torch(torch)
    if row is None:
        return
    # triton is pinned by torch's own Requires-Dist (the first view); torchvision,
    # torchaudio and torchtext are released beside torch with pins looser than the table
    for member in PAIRED:
        have = installed.get(member)
        if have is not None and not is_released(have):
            yield from unreleased(family, member, have, torch_version)
            continue
        want = row.members.get(member)
        v = Version.of(public(have)) if have is not None else None
        if have is None or want is None or v is None or family.pairs(member, v, torch):
            continue
        built_for = family.torch_for(member, v)
        yield Problem(
            member,
            have,
            f"{member} {want}.x is the release for torch {row.torch}"
            + (
                f"; {member} {v.truncate(2)} goes with torch {built_for.torch}" if built_for else ""
            ),
            "pairing",
        )


def _torch_variant(ctx: CheckContext) -> str | None:
    """The variant torch's version names (+cu118), else the one its build implies when its
    version has no local tag at all (a conda or PyPI torch reported with its CUDA)."""
    version = ctx.facts.torch.version
    if _local(version) is not None:
        return _variant(version)
    build = (ctx.facts.torch.build or "").lower()
    return build if _VARIANT_TAG.fullmatch(build) else None


def _local_tags(torch_tag: str | None, installed: dict[str, str]) -> Iterator[Problem]:
    if torch_tag is None:
        return
    for member in PAIRED:
        have = installed.get(member)
        tag = _variant(have)
        if tag is not None and tag != torch_tag:
            yield Problem(
                member, installed[member], f"built for {tag}, torch is +{torch_tag}", "local tag"
            )
        elif (
            have is not None
            and torch_tag.startswith("rocm")
            and _local(have) is None
            and is_released(have)  # PyPI's own builds are CUDA builds
        ):
            yield Problem(
                member,
                have,
                f"a PyPI build (for CUDA), torch is +{torch_tag}",
                "build origin",
            )


# the pytorch channel's build string of a member: its Python and variant ("py39_cu116")
_CONDA_BUILD = re.compile(r"py\d+_(cpu|cu\d{2,3})(?:_\d+)?")


def _conda_builds(
    torch_tag: str | None, conda: dict[str, str], installed: dict[str, str]
) -> Iterator[Problem]:
    """A member whose conda build string names another variant than torch's, as a local tag
    would; only where conda's entry is the member installed (the same version)."""
    if torch_tag is None:
        return
    for member in PAIRED:
        version, _, build = conda.get(member, "").partition(" ")
        m = _CONDA_BUILD.fullmatch(build)
        if m and version == installed.get(member) and m.group(1) != torch_tag:
            yield Problem(
                member,
                version,
                f"conda's build {build} is for {m.group(1)}, torch is +{torch_tag}",
                "conda build",
            )


def _vendor(family: Family, version: str | None, installed: dict[str, str]) -> Iterator[Problem]:
    """A released member (PyPI, download.pytorch.org) beside NVIDIA's or a source build of
    torch: built against the released torch's ABI, not this one. A release's version number
    that no release ever had (torchaudio 0.14.0 beside NGC's torch 1.14.0a0, pytorch#91351:
    0.13.1 then 2.0.0) is a build of its own, made against the torch beside it."""
    if not version:
        return
    origin = torch_origin(version)
    if origin.kind not in (NVIDIA, SOURCE):
        return
    for member in PAIRED:
        have = installed.get(member)
        if have is not None and is_released(have) and _a_release(family, member, have):
            yield Problem(
                member,
                have,
                f"{member} {have} is a released wheel built against the released torch; "
                f"this torch is {origin.label}",
                "build origin",
            )


def _a_release(family: Family, member: str, have: str) -> bool:
    """Whether `have` may be a release of `member`: false only for a series between two the
    release table holds that is none of them (a gap no release filled; a series older or
    newer than the table's is taken for a release)."""
    v = Version.of(public(have))
    if v is None or family.torch_for(member, v) is not None:
        return True
    known = [r.members[member] for r in family.rows if member in r.members]
    return not (known and min(known) < v.truncate(2) < max(known))


@check("EL-FAMILY-MISMATCH")
def family_mismatch(ctx: CheckContext) -> Iterator[Finding]:
    tv = ctx.torch_version or stated_release(ctx)
    if tv is None:
        return
    family = load_family()
    installed = _installed(ctx)
    torch_tag = _local(ctx.facts.torch.version) or ctx.facts.torch.build
    pairing = list(_pairing(family, tv, installed, ctx.facts.torch.version))
    problems = pairing if ctx.torch_version is None else [*pairing, *_views(ctx, family, installed)]
    row = family.row_for_torch(tv)
    by_package: dict[str, list[Problem]] = {}
    for p in problems:
        by_package.setdefault(p.package, []).append(p)
    for package, found in sorted(by_package.items()):
        yield _finding(ctx, package, found, row, family, torch_tag)
    # packages whose own version names the torch they were built for (F3's checks/builtfor.py)
    yield from other_torch_builds(ctx)


def _views(ctx: CheckContext, family: Family, installed: dict[str, str]) -> list[Problem]:
    """The views besides the release pairing: torch's Requires-Dist, the members' local tags,
    conda's builds, PyPI's default variant, vendor builds, members built without CUDA."""
    return [
        *_requires_dist(ctx, installed),
        *_local_tags(_torch_variant(ctx), installed),
        *_conda_builds(_torch_variant(ctx), ctx.facts.toolchain.conda_packages, installed),
        *(
            Problem(
                d.member,
                d.version,
                f"no local tag: pip's {d.member} {d.version} is PyPI's default build "
                f"({d.variant}), torch is +{_variant(ctx.facts.torch.version)}",
                "PyPI default variant",
                d.variant,
            )
            for d in pypi_defaults(ctx, family, installed)
        ),
        *_vendor(family, ctx.facts.torch.version, installed),
        *without_cuda(
            ctx.facts.meta.notes,
            installed,
            ctx.facts.packages.unavailable is None,
            _torch_variant(ctx),
        ),
    ]


def _finding(
    ctx: CheckContext,
    package: str,
    found: list[Problem],
    row: FamilyRow | None,
    family: Family,
    torch_tag: str | None,
) -> Finding:
    version = found[0].version
    fix = (
        source_fix(package, row)
        if _built_here(found, ctx.facts.torch.version) and not _rocm(torch_tag)
        else member_fix(
            package,
            version,
            # a torch named without its build: the member's road only (no torch line to apply)
            _road_from(ctx, package, version, family, torch_tag) if ctx.torch_version else None,
            row,
            family,
            torch_tag,
            ctx,
        )
    )
    # what this member brought with it: read after it (checks/triage.py)
    after = consequences(ctx, {p.variant for p in found if p.variant})
    return Finding(
        check_id="EL-FAMILY-MISMATCH",
        severity=Severity.ERROR,
        message=(
            f"{package} {version} does not match torch {ctx.facts.torch.version}: "
            + "; ".join(dict.fromkeys(p.why for p in found))
            + (
                f"; its CUDA wheels came with it, so {' and '.join(after)} follow from this"
                if after
                else ""
            )
        ),
        fix=fix,
        evidence={
            "package": package,
            "package.version": version,
            "torch.version": ctx.facts.torch.version,
            "found_by": sorted({p.source for p in found}),
            "pairing (matrix/family.toml)": (
                {m: str(v) for m, v in row.members.items()} if row else None
            ),
            "pairing.source": list(row.source) if row else [],
            "pairing.unverified": list(row.unverified) if row else [],
            **after_causes(after + symptoms(ctx, package)),
        },
    )


def _road_from(
    ctx: CheckContext, package: str, version: str, family: Family, torch_tag: str | None
) -> Version | None:
    """The member's release, from which member_fix offers moving torch to the release it was
    built for; None (no such road) for a ROCm torch where the matrix holds no build of that
    release with torch's tag (legacy-rocm-build-4729: torch 2.7 for +rocm6.2.3 is no build)."""
    v = Version.of(public(version))
    if v is None or not _rocm(torch_tag):
        return v
    other = family.torch_for(package, v)
    entry = ctx.matrix.torch_release(other.torch) if other is not None else None
    return v if entry is not None and entry.variant(str(torch_tag)) is not None else None


def _built_here(found: list[Problem], torch_version: str | None) -> bool:
    """Whether the member must be built against this torch: a released one beside NVIDIA's
    or a source build of torch, or a source-built one beside such a torch (no released
    wheel is built for it)."""
    if any(p.source == "build origin" for p in found):
        return True
    vendor = torch_origin(torch_version or "").kind in (NVIDIA, SOURCE)
    return vendor and any(p.source == "source build" for p in found)


def _rocm(torch_tag: str | None) -> bool:
    return bool(torch_tag) and str(torch_tag).lower().startswith("rocm")


@check("EL-TORCH-TWO-INSTALLS")
def torch_two_installs(ctx: CheckContext) -> Iterator[Finding]:
    """conda's pytorch and pip's torch in one environment: both unpack into
    site-packages/torch, so what Python imports is whichever wrote last, or a mix of both
    (pytorch/pytorch#28321: pip's torch 1.2.0 over conda's pytorch 1.3.0)."""
    conda = ctx.facts.toolchain.conda_packages
    both = two_installs(conda, dict(ctx.facts.packages.distributions))
    if both is None:
        yield from _pip_torch_in_conda_and_another(ctx)
        return
    conda_version, pip_version = both
    built = conda_torch(conda)
    kind = (
        ""
        if built is None
        else f" (the {built.channel} channel's "
        + ("CPU build)" if built.cpu else f"CUDA {built.cuda} build)")
    )
    yield Finding(
        check_id="EL-TORCH-TWO-INSTALLS",
        severity=Severity.ERROR,
        message=(
            f"torch is installed twice in this environment: conda's pytorch {conda_version}"
            f"{kind} and pip's torch {pip_version}; both write site-packages/torch, so Python imports "
            "whichever was installed last or a mix of the two"
        ),
        fix=two_installs_fix(ctx, conda_version, pip_version, built),
        evidence={
            "conda.pytorch": conda.get("pytorch"),
            "conda.torch": conda.get("torch"),
            "packages.torch": ctx.facts.packages.distributions.get("torch"),
        },
    )


def _pip_torch_in_conda_and_another(ctx: CheckContext) -> Iterator[Finding]:
    """conda's list names a torch pip installed into the conda environment (`torch 2.5.0+cpu
    pypi_0 pypi`) while the interpreter's pip lists another torch (vllm#11705, vllm#18946):
    two installs, the environment's and the one this Python imports (a user site-packages
    or another environment's); a torch both lists name alike is one install seen twice."""
    entry = ctx.facts.toolchain.conda_packages.get("torch", "")
    conda_version, _, build = entry.partition(" ")
    pip_version = ctx.facts.packages.distributions.get("torch")
    if not conda_version or pip_version is None or not build.startswith(("pypi", "<pip>")):
        return
    if public(conda_version) == public(pip_version):
        return
    yield Finding(
        check_id="EL-TORCH-TWO-INSTALLS",
        severity=Severity.ERROR,
        message=(
            f"torch is installed twice: the conda environment holds torch {conda_version} "
            f"(pip-installed into it) while this Python's pip lists torch {pip_version}, the "
            f"one it imports ({ctx.facts.torch.version}); which one a job gets depends on the "
            "interpreter and its site-packages order"
        ),
        fix=(
            "keep one torch: pip uninstall -y torch in the environment that should not have it "
            "(repeat until pip finds none there; check python -m site for a user site-packages), "
            "then install the family once with pip"
        ),
        evidence={
            "conda.torch": entry,
            "packages.torch": pip_version,
            "torch.version": ctx.facts.torch.version,
        },
    )
