"""A compiled package whose own version names the torch release it was built for, beside
another torch: its C++ extension needs that release's libtorch symbols and does not load.

Each scheme is its publisher's, read from the local version label ("+..."):
- `torch` and the release, the CUDA as `cuXYZ` or `cudaX.Y`: MindIE Torch's
  `1.0rc2+torch2.1.0.abi0`, GPTQModel's `1.5.1+cu124torch2.5`, k2's
  `1.23.2.dev20221221+cuda11.8.torch1.14.0a0`;
- PyG's wheels (data.pyg.org/whl/torch-2.0.0+cu118.html: `torch_scatter-2.1.2+pt20cu118`,
  `pyg_lib-0.7.0+pt212cpu`): `pt`, torch's major and minor digits, then cuXYZ or cpu; only for
  PyG's own distributions (a vendor's `torch_scatter 2.1.0+corex.4.5.0` is another scheme).
The torch release is compared by major and minor (PyG publishes one wheel per minor, on
an index named for its .0 release); the CUDA by major, where both are CUDA.

FlashInfer's wheels name torch the same way (`0.1.6+cu121torch2.4`) but are not judged:
SGLang 0.4's environments ran flashinfer 0.1.6+cu121torch2.4 beside torch 2.5.1 (the
corpus's healthy sglang-3303, -4175; vllm-16880's 0.2.3+cu124torch2.5 beside torch 2.6.0),
and from 0.2 on its prebuilt kernels are optional (flashinfer/jit/__init__.py: an
ImportError leaves has_prebuilt_ops False and kernels compile at first use).

The corpus calls such a package a member of another torch's family (vllm-ascend-556,
vllm-14911): EL-FAMILY-MISMATCH, raised from checks/family.py's check.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from envlock.checks.context import CheckContext
from envlock.findings import Finding, Severity
from envlock.matrix import Version, cuda_variant

PYG = ("pyg-lib", "torch-cluster", "torch-scatter", "torch-sparse", "torch-spline-conv")
# not judged: see the module docstring
FLASHINFER = ("flashinfer", "flashinfer-python")
_TORCH = re.compile(r"(?<![a-z])torch(\d{1,2})\.(\d{1,3})")
_CUDA = re.compile(r"(?<![a-z])cu(?:da)?(?:(\d{1,2})\.(\d)|(\d{1,2})(\d))(?!\d)")
_PYG = re.compile(r"pt(\d)(\d{1,2})(cpu|cu\d{2,3})?")
_NAME = re.compile(r"[-_.]+")


@dataclass(frozen=True, slots=True)
class BuiltFor:
    """What a package's version says it was built for."""

    package: str
    version: str
    torch: Version  # major.minor
    cuda: Version | None  # major.minor; None: a CPU build or not said
    scheme: str  # "pyg" or "torch-tag"


def built_for(name: str, version: str) -> BuiltFor | None:
    """The torch (and CUDA) a package's version names, by its publisher's scheme; None
    where its version names none."""
    package = _NAME.sub("-", name).lower()
    public, plus, tag = version.partition("+")
    tag = tag.lower()
    if not plus or not public or len(tag) > 100 or package in FLASHINFER:
        return None
    if package in PYG:
        m = _PYG.fullmatch(tag)
        if m is None:
            return None
        cuda = _cuda(m.group(3) or "")
        torch = Version((int(m.group(1)), int(m.group(2))))
        return BuiltFor(package, version, torch, cuda, "pyg")
    t = _TORCH.search(tag)
    if t is None:
        return None
    torch = Version((int(t.group(1)), int(t.group(2))))
    return BuiltFor(package, version, torch, _cuda(tag), "torch-tag")


def _cuda(tag: str) -> Version | None:
    m = _CUDA.search(tag)
    if m is None:
        return None
    major, minor = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
    return Version((int(major), int(minor)))


def _why(b: BuiltFor, torch: Version, torch_cuda: Version | None) -> str | None:
    """Why `b` does not fit the installed torch, or None where it does (or cannot tell)."""
    if b.torch != torch.truncate(2):
        return f"its build names torch {b.torch} (+{b.version.partition('+')[2]})"
    if b.cuda is not None and torch_cuda is not None and b.cuda.major != torch_cuda.major:
        return f"its build names CUDA {b.cuda}, torch's is CUDA {torch_cuda}"
    return None


def other_torch_builds(ctx: CheckContext) -> Iterator[Finding]:
    """EL-FAMILY-MISMATCH for each package built for another torch release (PyG's packages
    in one finding: one index serves them together)."""
    torch = ctx.torch_version
    if torch is None:
        return
    found: list[tuple[BuiltFor, str]] = []
    for name, version in sorted(ctx.facts.packages.distributions.items()):
        b = built_for(name, version)
        why = _why(b, torch, ctx.torch_cuda) if b is not None else None
        if b is not None and why is not None:
            found.append((b, why))
    pyg = [(b, why) for b, why in found if b.scheme == "pyg"]
    if pyg:
        yield _finding(ctx, pyg, _pyg_fix(ctx, [b.package for b, _ in pyg]))
    for b, why in found:
        if b.scheme != "pyg":
            yield _finding(ctx, [(b, why)], _own_fix(ctx, b))


def _finding(ctx: CheckContext, found: list[tuple[BuiltFor, str]], fix: str) -> Finding:
    torch = ctx.facts.torch.version
    listed = "; ".join(f"{b.package} {b.version}: {why}" for b, why in found)
    return Finding(
        check_id="EL-FAMILY-MISMATCH",
        severity=Severity.ERROR,
        message=(
            f"{listed}; torch here is {torch}: a compiled extension needs the libtorch "
            "symbols (and CUDA runtime) of the build it was made for: importing it fails "
            "with 'undefined symbol'"
        ),
        fix=fix,
        evidence={
            "package": ", ".join(b.package for b, _ in found),
            "package.version": ", ".join(b.version for b, _ in found),
            "torch.version": torch,
            "found_by": ["built for (local version label)"],
            "built_for.torch": [str(b.torch) for b, _ in found],
            "built_for.cuda": [str(b.cuda) if b.cuda else None for b, _ in found],
        },
    )


def torch_variant(ctx: CheckContext) -> str | None:
    """The installed torch's wheel variant: its local label where that is one (cu121, cpu),
    else from its CUDA; None for ROCm and builds of no variant."""
    local = (ctx.facts.torch.version or "").partition("+")[2].lower()
    if re.fullmatch(r"cpu|cu\d{2,3}", local):
        return local
    if local:
        return None
    tc = ctx.torch_cuda
    if tc is not None:
        return cuda_variant(tc)
    return "cpu" if ctx.torch_is_cpu_only else None


def _pyg_fix(ctx: CheckContext, names: list[str]) -> str:
    """PyG's wheel index for the installed torch (data.pyg.org/whl/torch-X.Y.0+VARIANT.html,
    its install line `pip install torch-scatter -f ...`); first uninstalled, since pip keeps
    an installed version that satisfies the name. No variant PyG builds (ROCm): PyPI holds
    their source, which pip builds against this torch."""
    joined = " ".join(names)
    torch = ctx.torch_version
    variant = torch_variant(ctx)
    if torch is None or variant is None:
        return (
            f"pip uninstall -y {joined} && pip install --no-build-isolation --no-cache-dir "
            f"{joined} (built here against this torch)"
        )
    index = f"https://data.pyg.org/whl/torch-{torch.truncate(2)}.0+{variant}.html"
    return f"pip uninstall -y {joined} && pip install {joined} -f {index}"


def _own_fix(ctx: CheckContext, b: BuiltFor) -> str:
    """A vendor's package (MindIE Torch, GPTQModel's wheels, k2): its build for this torch
    comes from where it came; unused, it goes."""
    return (
        f"install the {b.package} build made for torch {ctx.facts.torch.version} from where "
        f"{b.package} came (its own index or release page), replacing this one: "
        f"pip uninstall -y {b.package} first; or pip uninstall -y {b.package} where nothing "
        "here uses it"
    )


def torch_road(ctx: CheckContext, built: str) -> tuple[dict[str, str], str] | None:
    """The torch build an extension names as the one it was built for ("2.2.0+cu121"), as a
    road and its pip line: where the matrix holds that release and variant, and, with the
    GPUs or the driver known, that build runs on them. None otherwise."""
    from envlock.checks.hints import build_road, fits_here, install_command

    v = Version.of(built)
    variant = built.partition("+")[2].lower()
    release = ctx.matrix.torch_release(v) if v is not None else None
    if release is None or release.variant(variant) is None:
        return None
    caps = [g.capability for g in ctx.gpus() if g.capability is not None]
    if caps or ctx.driver_for_builds is not None:
        fit = next(
            f
            for f in fits_here(ctx, caps)
            if f.release.release == release.release and f.variant.name == variant
        )
        if not (fit.runs or fit.runs_if_driver):
            return None
    road = build_road(ctx, {"torch": str(release.release), "variant": variant})
    return road, install_command(ctx, release.release, variant)
