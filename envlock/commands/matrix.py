"""envlock matrix: which torch builds run on this GPU and driver, and how to install one."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from envlock.commands._source import add_source_arguments, source_of
from envlock.errors import ExitCode, UsageError

HELP = "which torch releases and CUDA variants run on a GPU and driver (with the pip command)"
DESCRIPTION = """\
Given a GPU (name or compute capability) and an NVIDIA driver version, list
the official torch releases and CUDA wheel variants that run there, and
print the pip command for the newest one. What is not given comes from this
machine (probed without importing torch) or from --facts FILE.

A wheel runs when its compiled kernels (SASS, or PTX the driver can JIT)
cover the GPU, the driver supports its CUDA (fully, or through minor-version
compatibility, which is flagged), and it supports the Python version.

Exit 0 when at least one build runs, 1 when none does.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--gpu", metavar="NAME", help='GPU model, e.g. "RTX 5090", H100, A10')
    parser.add_argument("--capability", metavar="X.Y", help="compute capability, e.g. 8.9")
    parser.add_argument("--driver", metavar="VERSION", help="NVIDIA driver, e.g. 570.86")
    parser.add_argument(
        "--os", choices=("linux", "windows"), default=None, help="driver platform (default linux)"
    )
    parser.add_argument(
        "--python-version", metavar="X.Y", help="only wheels for this Python (default: probed)"
    )
    parser.add_argument(
        "--all", action="store_true", help="also list the builds that do not run, and why"
    )
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format (default text)"
    )
    add_source_arguments(parser)


def run(args: argparse.Namespace) -> ExitCode:
    from envlock.checks.context import CheckContext
    from envlock.matrix import Version, load_matrix
    from envlock.matrix.advice import best, evaluate

    matrix = load_matrix()
    caps: list[Version] = []
    gpu_desc: list[str] = []
    arm: list[str] = []  # GPUs sold only in aarch64 systems
    if args.capability:
        cc = _version(args.capability, "--capability")
        caps.append(cc.truncate(2))
        gpu_desc.append(f"compute capability {cc.truncate(2)}")
    elif args.gpu:
        model = matrix.gpu_by_name(args.gpu)
        if model is None:
            raise UsageError(
                f"unknown GPU {args.gpu!r}: give its compute capability with --capability X.Y"
            )
        caps.append(model.capability)
        if model.cpu != "x86_64":
            arm.append(model.name)
        note = ", UNVERIFIED" if model.unverified else ""
        gpu_desc.append(f"{model.name} ({model.capability}{note})")
    driver = _version(args.driver, "--driver") if args.driver else None
    python = _version(args.python_version, "--python-version") if args.python_version else None
    os_name = args.os or "linux"
    if not caps or driver is None or args.facts or args.python:
        from envlock.api import collect_facts

        # the matrix needs no torch import
        source = source_of(args)._replace(torch_live=False)
        ctx = CheckContext(facts=collect_facts(source), host=None, matrix=matrix)
        if not caps:
            for g in ctx.gpus():
                if g.capability is not None:
                    caps.append(g.capability)
                    gpu_desc.append(f"GPU {g.index}: {g.name} ({g.capability})")
            machine = (ctx.facts.system.arch or "").lower()
            if caps and machine in ("aarch64", "arm64"):
                arm.append(f"this {machine} machine's GPU")
        if driver is None:
            driver = ctx.driver_version
        if python is None:
            python = ctx.python_version
        if args.os is None:
            os_name = ctx.os_name
    if python is None:
        # the interpreter envlock runs under is the one the host probe reports
        python = Version((sys.version_info.major, sys.version_info.minor))
    if not caps and driver is None:
        raise UsageError(
            "no GPU or driver given and none found here: use --gpu NAME or --capability X.Y, "
            "and --driver VERSION"
        )
    caps = sorted(set(caps))
    fits = evaluate(matrix, capabilities=caps, driver=driver, os_name=os_name, python=python)
    chosen = best(fits)
    doc = _document(fits, chosen, caps, gpu_desc, driver, os_name, python, matrix)
    if arm:
        # the matrix holds the x86_64 wheels' arch lists; aarch64 wheels are built apart
        chosen = None
        doc["best"] = None
        doc["does_not_apply"] = (
            f"{', '.join(arm)}: an aarch64 (Arm) system; these arch lists are those of "
            "the x86_64 wheels, so this table does not say what runs there: check the "
            "aarch64 wheel's own torch.cuda.get_arch_list()"
        )
    if args.format == "json":
        json.dump(doc, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        _print_text(doc, show_all=args.all)
    return ExitCode.OK if chosen is not None else ExitCode.FINDINGS


def _version(text: str, option: str) -> Any:
    from envlock.matrix import Version

    try:
        return Version.parse(text)
    except ValueError:
        raise UsageError(f"{option} {text!r}: not a version number") from None


def _document(
    fits: list[Any],
    chosen: Any,
    caps: list[Any],
    gpu_desc: list[str],
    driver: Any,
    os_name: str,
    python: Any,
    matrix: Any,
) -> dict[str, Any]:
    from envlock.matrix import DriverSupport

    newest = fits[0].release.release if fits else None
    upgrade = None
    if chosen is None or chosen.release.release != newest:
        # What it takes to run the newest release: its variants that fail only on the driver.
        driver_only = [
            f
            for f in fits
            if f.release.release == newest
            and f.driver is not None
            and f.driver.support is DriverSupport.TOO_OLD
            and len(f.problems) == 1
            and f.driver.needed_full is not None
        ]
        if driver_only:
            f = min(driver_only, key=lambda f: f.driver.needed_full)
            upgrade = {
                "torch": str(newest),
                "variant": f.variant.name,
                "driver_at_least": str(f.driver.needed_full),
            }
    return {
        "gpus": gpu_desc,
        "capabilities": [str(c) for c in caps],
        "driver": str(driver) if driver else None,
        "os": os_name,
        "python": str(python.truncate(2)) if python else None,
        "best": _fit_dict(chosen) if chosen else None,
        "upgrade_driver_for_newest": upgrade,
        "fits": [_fit_dict(f) for f in fits],
        "sources": matrix.sources,
    }


def _fit_dict(f: Any) -> dict[str, Any]:
    return {
        "torch": str(f.release.release),
        "variant": f.variant.name,
        "cuda": str(f.variant.cuda),
        "runs": f.runs,
        "runs_with_driver_at_least": str(f.needs_driver) if f.runs_if_driver else None,
        "driver_support": f.driver.support.value if f.driver else None,
        "problems": f.problems,
        "caveats": f.caveats,
        "pip": f.pip_command(),
    }


def _print_text(doc: dict[str, Any], *, show_all: bool) -> None:
    out = sys.stdout
    gpus = "; ".join(doc["gpus"]) or "none given (GPU coverage not checked)"
    out.write(f"GPU: {gpus}\n")
    if doc.get("does_not_apply"):
        out.write(f"does not apply: {doc['does_not_apply']}\n")
    driver = doc["driver"] or "unknown (each build says the driver it needs)"
    out.write(f"driver: {driver} ({doc['os']})\n")
    if doc["python"]:
        out.write(f"Python: {doc['python']}\n")
    rows = [f for f in doc["fits"] if show_all or f["runs"] or f["runs_with_driver_at_least"]]
    out.write("\n")
    _write_rows(out, rows)
    _write_hidden(out, [f for f in doc["fits"] if f not in rows])
    _write_advice(out, doc["best"], doc["upgrade_driver_for_newest"])


def _write_rows(out: TextIO, rows: list[dict[str, Any]]) -> None:
    if not rows:
        out.write("no official torch build runs here (--all shows why)\n")
        return
    out.write(f"{'torch':7} {'variant':8} {'runs':6} notes\n")
    for f in rows:
        runs = {True: "yes", False: "no", None: "?"}[f["runs"]]
        if f["runs_with_driver_at_least"]:
            runs = "driver"
        notes = "; ".join(f["problems"] + f["caveats"])
        out.write(f"{f['torch']:7} {f['variant']:8} {runs:6} {notes}\n")


def _write_hidden(out: TextIO, hidden_fits: list[dict[str, Any]]) -> None:
    """The builds not listed, one line per reason."""
    hidden: dict[str, set[str]] = {}
    for f in hidden_fits:
        why = (f["problems"] or f["caveats"] or ["cannot tell"])[0]
        if f["runs"] is None:
            why = "cannot tell: " + why
        hidden.setdefault(why, set()).add(f["torch"])
    if hidden:
        out.write("\nnot listed (--all shows them):\n")
    for why, releases in hidden.items():
        names = ", ".join(sorted(releases, key=lambda r: tuple(map(int, r.split(".")))))
        out.write(f"  torch {names}: {why}\n")


def _write_advice(out: TextIO, best: dict[str, Any] | None, up: dict[str, Any] | None) -> None:
    if best:
        cond = best["runs_with_driver_at_least"]
        out.write(
            "\nnewest that runs"
            + (f" (with a driver >= {cond}; the driver is unknown)" if cond else "")
            + f": torch {best['torch']} {best['variant']}\n  {best['pip']}\n"
        )
    if up:
        out.write(
            f"\nfor torch {up['torch']} ({up['variant']}): upgrade the driver to >= "
            f"{up['driver_at_least']}\n"
        )
