"""Checks about native extensions around torch: their GPU code, torch symbols, C++ ABI, CUDA.

Each reads facts.extensions (probe/extensions.py): what the extension's ELF
headers and fatbin index say, before anything imports it. The arch rule is
torch's own (matrix.coverage: SASS of the same major and a minor at most the
GPU's; PTX of any capability at most the GPU's).
"""

from __future__ import annotations

from collections.abc import Iterator

from envlock.checks.context import CheckContext, Gpu
from envlock.checks.registry import check
from envlock.facts import ExtensionFacts
from envlock.findings import Finding, Severity
from envlock.matrix import ArchTarget, Coverage, Version
from envlock.matrix.stableabi import other_abi


def _targets(ext: ExtensionFacts) -> list[ArchTarget]:
    return [t for f in (*ext.sass, *ext.ptx) if (t := ArchTarget.from_flag(f)) is not None]


def _evidence(ext: ExtensionFacts) -> dict[str, object]:
    return {
        "extension.distribution": ext.distribution,
        "extension.version": ext.version,
        "extension.file": ext.file,
        "extension.sass": list(ext.sass),
        "extension.ptx": list(ext.ptx),
        "extension.partial": ext.partial,
    }


def _coverage(ctx: CheckContext) -> Iterator[tuple[ExtensionFacts, Gpu, Version, Coverage]]:
    """Each extension with GPU code, and each GPU of known capability it is judged on."""
    gpus = [g for g in ctx.gpus() if g.capability is not None]
    for ext in ctx.facts.extensions.items:
        targets = _targets(ext)
        if not targets:
            continue  # no GPU code read: nothing to judge
        for g in gpus:
            assert g.capability is not None
            yield ext, g, g.capability, ctx.matrix.coverage(g.capability, targets)


def _family_fix(ctx: CheckContext, ext: ExtensionFacts) -> str | None:
    """For torchvision/torchaudio: the release of the installed torch's row (family.toml)."""
    from envlock.matrix.family import MEMBERS, load_family, pip_line

    tv = ctx.torch_version
    if ext.distribution not in MEMBERS or tv is None:
        return None
    row = load_family().row_for_torch(tv)
    if row is None or ext.distribution not in row.members:
        return None
    version = ctx.facts.torch.version or ""
    tag = version.split("+", 1)[1] if "+" in version else ctx.facts.torch.build
    return pip_line({ext.distribution: row.members[ext.distribution]}, tag)


# published as source only (not on PyPI, where '--no-binary NAME NAME==X' finds nothing): pip
# builds them from their repository, a release's tag where the version is one (detectron2's
# INSTALL.md: python -m pip install 'git+https://github.com/facebookresearch/detectron2.git')
# projects PyPI does not carry (or carries another project under the name): their source, and
# the options their build of the C++/CUDA extensions needs (apex: its README's pip >= 23.1 form)
SOURCE_ONLY = {
    "detectron2": ("git+https://github.com/facebookresearch/detectron2.git", ""),
    "apex": (
        "git+https://github.com/NVIDIA/apex.git",
        "--config-settings '--build-option=--cpp_ext' "
        "--config-settings '--build-option=--cuda_ext' ",
    ),
}


def _rebuild(ext: ExtensionFacts, what: str) -> str:
    source = SOURCE_ONLY.get(ext.distribution)
    if source is not None:
        url, options = source
        release = ext.version is not None and all(p.isdigit() for p in ext.version.split("."))
        tag = f"@v{ext.version}" if release else ""
        return (
            f"install a {ext.distribution} build {what}, or rebuild it here from its source: "
            f"pip install --no-build-isolation --no-cache-dir --force-reinstall --no-deps "
            f"{options}'{url}{tag}'"
        )
    pin = f"{ext.distribution}=={ext.version}" if ext.version else ext.distribution
    return (
        f"install a {ext.distribution} build {what}, or rebuild it here: "
        f"pip install --no-build-isolation --no-cache-dir --force-reinstall --no-deps "
        f"--no-binary {ext.distribution} {pin}"
    )


@check("EL-EXT-ARCH-UNSUPPORTED")
def ext_arch_unsupported(ctx: CheckContext) -> Iterator[Finding]:
    for ext, g, cc, cov in _coverage(ctx):
        if cov.runs:
            continue
        yield Finding(
            check_id="EL-EXT-ARCH-UNSUPPORTED",
            severity=Severity.ERROR,
            message=(
                f"{ext.distribution} {ext.version or ''} ({ext.file}) carries GPU code for "
                f"{', '.join([*ext.sass, *ext.ptx])} only: nothing runs on GPU {g.index} "
                f"({g.name}, compute capability {cc}); its kernels fail with 'no kernel image "
                "is available for execution on the device'"
            ),
            fix=_rebuild(
                ext,
                f"with sm_{cc.major}{cc.minor} (TORCH_CUDA_ARCH_LIST={cc.major}.{cc.minor})",
            ),
            evidence={
                **_evidence(ext),
                "gpu.index": g.index,
                "gpu.name": g.name,
                "gpu.compute_capability": str(cc),
                "gpu.capability_from": g.capability_from,
            },
        )


@check("EL-EXT-ARCH-PTX-ONLY")
def ext_arch_ptx_only(ctx: CheckContext) -> Iterator[Finding]:
    for ext, g, cc, cov in _coverage(ctx):
        if cov.sass is not None or cov.ptx is None:
            continue
        yield Finding(
            check_id="EL-EXT-ARCH-PTX-ONLY",
            severity=Severity.WARNING,
            message=(
                f"{ext.distribution} {ext.version or ''} ({ext.file}) has no SASS for GPU "
                f"{g.index} ({g.name}, {cc}); the driver JIT-compiles its {cov.ptx} PTX at "
                "first use (slow start, and a driver at least as new as its CUDA)"
            ),
            fix=_rebuild(
                ext,
                f"with sm_{cc.major}{cc.minor} SASS (TORCH_CUDA_ARCH_LIST={cc.major}.{cc.minor})",
            ),
            evidence={
                **_evidence(ext),
                "gpu.index": g.index,
                "gpu.name": g.name,
                "gpu.compute_capability": str(cc),
                "ptx_used": str(cov.ptx),
            },
        )


@check("EL-EXT-TORCH-ABI")
def ext_torch_abi(ctx: CheckContext) -> Iterator[Finding]:
    t = ctx.facts.torch
    # a paste that names torch's release but not its CUDA (DeepSpeed's runtime check, an
    # untagged "you have 2.1.2") leaves torch unread, yet a build for another release is said;
    # one that names no torch at all still shows the loader's missing torch symbol (apex-428)
    torch_abi = t.live.cxx11_abi if t.live is not None else None
    for ext in ctx.facts.extensions.items:
        reasons = _abi_reasons(ctx, ext, torch_abi) if t.installed else _release_only(ctx, ext)
        if not reasons:
            continue
        road = _built_for_road(ctx, ext)
        what = f"for torch {t.version}" if t.version else "for the installed torch"
        rebuild = _family_fix(ctx, ext) or _rebuild(ext, what)
        yield Finding(
            check_id="EL-EXT-TORCH-ABI",
            severity=Severity.ERROR,
            message=f"{' '.join(filter(None, (ext.distribution, ext.version)))} ({ext.file}) "
            + "; ".join(reasons),
            fix=f"{road[1]}; or {rebuild}" if road else rebuild,
            evidence={
                **_evidence(ext),
                "torch.version": t.version,
                "torch.cxx11_abi": torch_abi,
                "extension.cxx11_abi": ext.cxx11_abi,
                "extension.torch_symbols": ext.torch_symbols,
                "extension.missing_torch_symbols": list(ext.missing_torch_symbols),
                "extension.missing_torch_symbols_total": ext.missing_torch_symbols_total,
                "extension.built_for_torch": ext.built_for_torch,
                **({"fix.roads": [road[0]]} if road else {}),
            },
        )


def _abi_reasons(ctx: CheckContext, ext: ExtensionFacts, torch_abi: bool | None) -> list[str]:
    """Why `ext` cannot load against the installed torch: torch symbols it needs and torch
    does not export, another C++ ABI, or a build for another torch release."""
    version = ctx.facts.torch.version
    reasons: list[str] = []
    if ext.missing_torch_symbols_total:
        reasons.append(_symbols_reason(ext, version))
    if ext.cxx11_abi is not None and torch_abi is not None and ext.cxx11_abi != torch_abi:
        reasons.append(
            f"was built with _GLIBCXX_USE_CXX11_ABI={int(bool(ext.cxx11_abi))} but torch "
            f"{version} with {int(bool(torch_abi))}"
        )
    # a CUDA extension beside a CPU-only torch is EL-TORCH-CPU-ONLY's (as EL-EXT-CUDA-MAJOR's)
    cpu_torch = ctx.torch_is_cpu_only and ext.cuda_major is not None
    if _other_release(ext, ctx.torch_version) and not cpu_torch:
        reasons.append(_built_for_reason(ext, version) + _and_cuda(ctx, ext))
    return reasons


def _symbols_reason(ext: ExtensionFacts, version: str | None) -> str:
    missing = ext.missing_torch_symbols_total or 0
    shown = ", ".join(ext.missing_torch_symbols[:3])
    more = f" and {missing - 3} more" if missing > 3 else ""
    return (
        f"needs {missing} torch symbol(s) that "
        + (f"torch {version}" if version else "the installed torch")
        + " does not export "
        f"({shown}{more}): importing it fails with 'undefined symbol'"
    )


def _and_cuda(ctx: CheckContext, ext: ExtensionFacts) -> str:
    """The CUDA major a build for another torch release also differs in: said here, as part of
    the one cause (that build's torch brought its CUDA), not as EL-EXT-CUDA-MAJOR's own."""
    tc = ctx.torch_cuda
    if tc is None or ext.cuda_major is None or ext.cuda_major == tc.major:
        return ""
    return f", and with it CUDA {ext.cuda_major} where torch uses CUDA {tc}"


def _abi_is_the_cause(ctx: CheckContext, ext: ExtensionFacts) -> bool:
    """Whether EL-EXT-TORCH-ABI states `ext`'s cause: a build for another torch release (not
    a stable-ABI build it runs on) beside a CUDA torch. Its CUDA major came with that torch,
    and the fix (the build for this torch, or that build's torch) moves both."""
    t = ctx.facts.torch
    if not t.installed and t.version is None:
        return False
    return ctx.torch_cuda is not None and _other_release(ext, ctx.torch_version)


def _release_only(ctx: CheckContext, ext: ExtensionFacts) -> list[str]:
    """Where torch's release is all the paste says of it: a build for another release."""
    version = ctx.facts.torch.version
    reasons = [_symbols_reason(ext, version)] if ext.missing_torch_symbols_total else []
    if version is not None and _other_release(ext, Version.of(version)):
        reasons.append(_built_for_reason(ext, version))
    return reasons


def _built_for_reason(ext: ExtensionFacts, version: str | None) -> str:
    return (
        f"was built for torch {ext.built_for_torch} (its build information), torch here is "
        f"{version}: its C++/CUDA extension needs that release's libtorch symbols and does "
        "not load"
    )


def _other_release(ext: ExtensionFacts, torch: Version | None) -> bool:
    """A build for another torch release's ABI (matrix/stableabi.py: a patch release keeps it,
    a stable-ABI build runs on every later torch)."""
    torch_text = str(torch) if torch is not None else None
    return other_abi(ext.distribution, ext.version, ext.built_for_torch, torch_text)


def _built_for_road(ctx: CheckContext, ext: ExtensionFacts) -> tuple[dict[str, str], str] | None:
    """The torch build the extension was built for, where it names one of another release
    that the matrix holds and that runs here (checks/builtfor.torch_road)."""
    from envlock.checks.builtfor import torch_road

    built = ext.built_for_torch
    if built is None or not _other_release(ext, ctx.torch_version) or ctx.torch_is_cpu_only:
        return None
    return torch_road(ctx, built)


def _torch_named(ctx: CheckContext) -> str:
    """torch with its version where the facts have one (a library's own message may state
    torch's CUDA alone: pasted/libbuilt.py)."""
    version = ctx.facts.torch.version
    return f"torch {version}" if version else "torch"


@check("EL-EXT-CUDA-MAJOR")
def ext_cuda_major(ctx: CheckContext) -> Iterator[Finding]:
    tc = ctx.torch_cuda
    if tc is None:
        return
    for ext in ctx.facts.extensions.items:
        if ext.cuda_major is None or ext.cuda_major == tc.major or _abi_is_the_cause(ctx, ext):
            continue
        yield Finding(
            check_id="EL-EXT-CUDA-MAJOR",
            severity=Severity.ERROR,
            message=(
                f"{ext.distribution} {ext.version or ''} ({ext.file}) links the CUDA "
                f"{ext.cuda_major} runtime (libcudart.so.{ext.cuda_major}) but "
                f"{_torch_named(ctx)} uses CUDA {tc}: two CUDA runtimes in one process, "
                "or an import failure where libcudart.so."
                f"{ext.cuda_major} is missing"
            ),
            fix=_rebuild(ext, f"for CUDA {tc.major} (torch's {ctx.facts.torch.build or tc})"),
            evidence={
                **_evidence(ext),
                "extension.links": list(ext.links),
                "extension.cuda_major": ext.cuda_major,
                "torch.cuda": ctx.facts.torch.cuda,
            },
        )
