"""Checks about the Python runtime, torch settings, and what the probe could not see."""

from __future__ import annotations

import re
from collections.abc import Iterator

from envlock.checks.context import CheckContext
from envlock.checks.registry import check
from envlock.findings import Finding, Severity
from envlock.matrix import Version
from envlock.matrix.arm import JETSON_BUILDS, no_torch_wheel
from envlock.pasted.draft import TORCH_NOT_IMPORTED
from envlock.pasted.torch_import import failure_in_notes, import_failure_words

# torch <= 2.9 needs CUBLAS_WORKSPACE_CONFIG for deterministic cuBLAS; 2.10 removed that.
CUBLAS_CONFIG_NEEDED_UNTIL = Version((2, 9))
CUBLAS_CONFIG_VALID = (":4096:8", ":16:8")
_CUBLAS_CONFIG = re.compile(r"^(:\d+:\d+)+$")


@check("EL-PYTHON-UNSUPPORTED")
def python_unsupported(ctx: CheckContext) -> Iterator[Finding]:
    tv, py = ctx.torch_version, ctx.python_version
    release = ctx.matrix.torch_release(tv) if tv else None
    if release is None or py is None or release.supports_python(py):
        return
    newest = max(
        (r for r in ctx.matrix.torch if r.supports_python(py)),
        key=lambda r: r.release,
        default=None,
    )
    yield Finding(
        check_id="EL-PYTHON-UNSUPPORTED",
        severity=Severity.ERROR,
        message=(
            f"Python {py} is outside torch {release.release}'s supported range "
            f"{release.python_min}-{release.python_max}: there is no official wheel for it"
        ),
        fix=(
            f"use Python {release.python_min}-{release.python_max}"
            + (
                f", or torch {newest.release}, which supports Python {py.truncate(2)}"
                if newest is not None and newest.release != release.release
                else ""
            )
        ),
        evidence={
            "system.python.version": str(py),
            "torch.version": ctx.facts.torch.version,
            "matrix.python_range": f"{release.python_min}-{release.python_max}",
        },
    )


@check("EL-TORCH-MISSING")
def torch_missing(ctx: CheckContext) -> Iterator[Finding]:
    """The probe looked and found no torch (not: could not look, see EL-FACTS-UNAVAILABLE)."""
    f = ctx.facts
    bare = _image_without_python(ctx)
    # Partial facts could not look for torch, but a pasted collect_env's "PyTorch version:
    # N/A" is torch not importable in its interpreter (torchchat#1408, pytorch#186591)
    seen_absent = TORCH_NOT_IMPORTED in f.meta.notes and not f.torch.unavailable
    if f.torch.installed or (
        not bare and not seen_absent and (f.torch.unavailable or f.meta.partial)
    ):
        return
    said, fix = _missing_words(ctx, bare, seen_absent)
    fix, roads = _fitted(ctx, fix, bare)
    machine = f.system.arch
    if not bare and no_torch_wheel(machine):
        fix = (
            f"PyPI and download.pytorch.org publish no torch wheel for {machine} (pip answers "
            "'No matching distribution found for torch'): build torch from source "
            "(github.com/pytorch/pytorch, 'From Source'), or install a build your OS or "
            "hardware vendor ships for it"
        )
        roads = {}
    yield Finding(
        check_id="EL-TORCH-MISSING",
        severity=Severity.ERROR,
        message=f"{said}: a PyTorch job cannot run there",
        fix=fix,
        evidence={
            "torch.installed": False,
            "system.python.executable": f.system.python.executable if f.system.python else None,
            "meta.target": f.meta.target,
            **roads,
        },
    )


def _fitted(ctx: CheckContext, fix: str, bare: str | None) -> tuple[str, dict[str, object]]:
    """The fix with its bare pip line replaced by the install the matrix says runs here
    (the GPUs, driver and Python known), and that road as evidence; else as it was."""
    py = ctx.facts.system.python
    exe = py.executable if py is not None and py.executable else "python"
    # a cause the paste named has its own fix (pasted/torch_import.import_failure_words)
    named = failure_in_notes(ctx.facts.meta.notes) is not None
    fitting = None if bare or ctx.jetson or named else _fitting_install(ctx)
    line = f"{exe} -m pip install torch"
    if fitting is None or line not in fix:
        return fix, {}
    return fix.replace(line, fitting[0]), {"fix.roads": fitting[1]}


def _fitting_install(ctx: CheckContext) -> tuple[str, list[dict[str, str]]] | None:
    """The install that runs on the paste's GPUs, driver and Python (the matrix's nearest
    road, as text and as roads); where no official build supports this Python, the build
    for these GPUs and this driver after a Python it supports. None without GPUs."""
    from envlock.checks.hints import build_road, remedy_for, remedy_text

    r = remedy_for(ctx, exclude_installed=False)
    if r is None:
        return None
    if r.roads():
        text = remedy_text(r, ctx) or ""
        return text, [build_road(ctx, road) for road in r.roads()]
    first = python_first(ctx)
    return (f"no official torch build supports {first[0]}", [first[1]]) if first else None


def python_first(ctx: CheckContext) -> tuple[str, dict[str, str]] | None:
    """Where no official build that runs on these GPUs and this driver supports this Python:
    the nearest such build for another Python, as "Python X: first a Python A-B, then
    <install>", and its road (with the Python to move to)."""
    from envlock.checks.hints import build_road, install_command
    from envlock.matrix.advice import evaluate, remedy

    caps = [g.capability for g in ctx.gpus() if g.capability is not None]
    fits = evaluate(
        ctx.matrix, capabilities=caps, driver=ctx.driver_for_builds, os_name=ctx.os_name
    )
    b = remedy(fits, installed=None, installed_variant=None, exclude_installed=False).build
    py = ctx.python_version
    if b is None or py is None or b.release.supports_python(py):
        return None
    low, high = b.release.python_min, b.release.python_max
    text = (
        f"Python {py}: first a Python {low}-{high}, then "
        f"{install_command(ctx, b.release.release, b.variant.name)}"
    )
    road = {"torch": str(b.release.release), "variant": b.variant.name, "python": str(low)}
    return text, build_road(ctx, road)


def _missing_words(ctx: CheckContext, bare: str | None, seen_absent: bool) -> tuple[str, str]:
    """EL-TORCH-MISSING's message head and fix for the interpreter checked."""
    py = ctx.facts.system.python
    where = py.executable if py is not None and py.executable else "the checked interpreter"
    version = f" (Python {py.version})" if py is not None and py.version else ""
    exe = py.executable if py is not None and py.executable else "python"  # a paste's: unnamed
    # a Jetson's pip torch is a server-Arm (SBSA) or CPU build: NVIDIA's serve its GPU
    how = f"NVIDIA's build: {JETSON_BUILDS}" if ctx.jetson else f"{exe} -m pip install torch"
    if bare:  # the shell probe found no python3: no interpreter to import torch
        return f"torch is not installed for {bare} (no python3 in it){version}", (
            "build the image from one with Python and torch (FROM a pytorch/pytorch or "
            "python image, then pip install torch), or probe the image the job runs"
        )
    if seen_absent:
        named = import_failure_words(ctx.facts.meta.notes, exe)
        if named is not None and not ctx.jetson:  # the paste's own error names why
            return named
        # a paste's 'N/A' says only that collect_env's `import torch` failed: torch may be
        # installed with an import that fails (pytorch#186591), where pip is a no-op
        return (
            f"collect_env could not import torch in {where}{version}: it is not installed "
            "there, or its import fails"
        ), (
            f'first see why: {exe} -c "import torch" in that interpreter; only where it says '
            f"ModuleNotFoundError: No module named 'torch', install it ({how}); any other "
            "error names the library or wheel to repair"
        )
    return f"torch is not installed for {where}{version}", (
        f"install torch into that environment ({how}), or check "
        "the interpreter your job uses: envlock doctor --python /path/to/venv/bin/python"
    )


def _image_without_python(ctx: CheckContext) -> str | None:
    """The image (or container) the shell fallback probed and found no python3 nor torch in:
    the same missing torch as an image with python3 and no torch (issue 21 item 10)."""
    f = ctx.facts
    img = f.image
    if img is None or img.probe_mode != "shell" or f.system.python is not None:
        return None
    return f"{img.kind} {img.reference}"


@check("EL-DETERMINISM-INCOMPLETE")
def determinism_incomplete(ctx: CheckContext) -> Iterator[Finding]:
    tv = ctx.torch_version
    if tv is None or ctx.torch_cuda is None:
        return
    config = ctx.env("CUBLAS_WORKSPACE_CONFIG")
    expected = ctx.expects_determinism()
    problems: list[str] = []
    fixes: list[str] = []
    if config is not None and not _CUBLAS_CONFIG.match(config):
        problems.append(f"CUBLAS_WORKSPACE_CONFIG={config!r} is malformed (cuBLAS ignores it)")
        fixes.append("export CUBLAS_WORKSPACE_CONFIG=:4096:8")
    elif (
        expected
        and tv.truncate(2) <= CUBLAS_CONFIG_NEEDED_UNTIL
        and (config not in CUBLAS_CONFIG_VALID)
    ):
        problems.append(
            f"torch {tv} needs CUBLAS_WORKSPACE_CONFIG=:4096:8 (or :16:8) for deterministic "
            "cuBLAS: under torch.use_deterministic_algorithms(True) mm/bmm raise without it"
        )
        fixes.append("export CUBLAS_WORKSPACE_CONFIG=:4096:8 before the process starts")
    live = ctx.facts.torch.live
    flags = live.flags if live else None
    if expected and flags is not None and flags.cudnn_benchmark:
        problems.append("torch.backends.cudnn.benchmark is on: algorithm choice varies run to run")
        fixes.append(
            "set torch.backends.cudnn.benchmark = False and "
            "torch.backends.cudnn.deterministic = True"
        )
    if not problems:
        return
    yield Finding(
        check_id="EL-DETERMINISM-INCOMPLETE",
        severity=Severity.WARNING,
        message="; ".join(problems),
        fix="; ".join(fixes),
        evidence={
            "torch.version": ctx.facts.torch.version,
            "env.CUBLAS_WORKSPACE_CONFIG": config,
            "determinism_expected": expected,
            "torch.live.flags.cudnn_benchmark": flags.cudnn_benchmark if flags else None,
        },
    )


@check("EL-FACTS-UNAVAILABLE")
def facts_unavailable(ctx: CheckContext) -> Iterator[Finding]:
    f = ctx.facts
    missing = {
        name: reason
        for name, reason in (
            ("system", f.system.unavailable),
            ("driver", f.driver.unavailable),
            ("cuda", f.cuda.unavailable),
            ("torch", f.torch.unavailable),
            ("torch.live", f.torch.live.unavailable if f.torch.live else None),
            ("packages", f.packages.unavailable),
            ("env", f.env.unavailable),
        )
        if reason
    }
    if f.meta.partial and f.driver.source == "pasted":
        missing["report"] = "facts read from pasted text" + (
            ": " + "; ".join(f.meta.notes) if f.meta.notes else ""
        )
    elif f.meta.partial:
        missing["probe"] = "partial facts (fallback probe): " + "; ".join(f.meta.notes)
    if not missing:
        return
    yield Finding(
        check_id="EL-FACTS-UNAVAILABLE",
        severity=Severity.INFO,
        message="not observed, so not checked: "
        + "; ".join(f"{k}: {v}" for k, v in missing.items()),
        evidence={f"{name}.unavailable": reason for name, reason in missing.items()},
    )


def python_first_roads(ctx: CheckContext) -> list[dict[str, str]]:
    """python_first's road as a finding's fix.roads (none where the Python fits)."""
    first = python_first(ctx)
    return [first[1]] if first else []


def python_first_fix(ctx: CheckContext, cc: Version) -> str | None:
    """EL-ARCH-UNSUPPORTED's fix where the builds with sm_XY's kernels are for older Pythons
    (ghfile-lytf-ai: sm_35 on Python 3.8, the last such build torch 1.3 for 3.5-3.7)."""
    first = python_first(ctx)
    if first is None:
        return None
    sm = f"sm_{cc.major}{cc.minor}"
    return (
        f"no official torch build with {sm} kernels supports {first[0]}; or build torch "
        f"from source with TORCH_CUDA_ARCH_LIST={cc.major}.{cc.minor}"
    )
