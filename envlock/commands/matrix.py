"""envlock matrix: which torch builds run on this GPU and driver, and how to install one."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, TextIO

from envlock.commands._plan import add_matrix_fleet_refusal, add_plan_arguments, plan_options
from envlock.commands._source import add_source_arguments, source_of
from envlock.errors import ExitCode

if TYPE_CHECKING:
    from envlock.api import MatrixAdvice, PlanAdvice, TorchBuild

HELP = "which torch releases and CUDA variants run on a GPU and driver (with the pip command)"
DESCRIPTION = """\
Given a GPU (name or compute capability) and an NVIDIA driver version, list
the official torch releases and CUDA wheel variants that run there, and
print the pip command for the newest one. What is not given comes from this
machine (probed without importing torch) or from --facts FILE.

A wheel runs when its compiled kernels (SASS, or PTX the driver can JIT)
cover the GPU, the driver supports its CUDA (fully, or through minor-version
compatibility, which is flagged), and it supports the Python version.

With --torch VERSION (2.6, 1.8.1, or one build: 2.7.0+cu128) only that
release's builds are judged, each with why it does or does not run; when
none runs, the driver it would take and the nearest release that runs here.

With --plan FILE (a Dockerfile, compose file, requirements file or lock),
what would run here instead of the plan's torch and CUDA base image: each
instruction's replacement text, re-checked against the plan.

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
        "--torch",
        metavar="VERSION",
        help="only the builds of this torch release (2.6, 1.8.1) or this one build "
        "(2.7.0+cu128), each with why it does or does not run",
    )
    parser.add_argument(
        "--all", action="store_true", help="also list the builds that do not run, and why"
    )
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format (default text)"
    )
    add_source_arguments(parser)
    add_plan_arguments(parser)
    add_matrix_fleet_refusal(parser)


def run(args: argparse.Namespace) -> ExitCode:
    build_args, target = plan_options(args)
    if args.plan:
        from envlock.api import plan_advice

        plan = plan_advice(
            args.plan,
            facts=args.facts,
            build_args=build_args,
            target=target,
            probe_base=args.probe_base,
        )
        _print_plan(plan, sys.stdout, json_format=args.format == "json")
        return ExitCode.OK if all(line.settled for line in plan.lines) else ExitCode.FINDINGS
    from envlock.api import matrix_advice

    advice = matrix_advice(
        source_of(args),
        gpu=args.gpu,
        capability=args.capability,
        driver=args.driver,
        os_name=args.os,
        python_version=args.python_version,
        check_index=True,
        torch=args.torch,
    )
    if args.format == "json":
        json.dump(advice.to_dict(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        # asked about one release: every build of it, and why
        _print_text(advice, sys.stdout, show_all=args.all or advice.torch is not None)
    return ExitCode.OK if advice.runs else ExitCode.FINDINGS


def _print_text(advice: MatrixAdvice, out: TextIO, *, show_all: bool) -> None:
    _print_head(advice, out)
    rows = [f for f in advice.fits if show_all or f.runs or f.runs_with_driver_at_least]
    out.write("\n")
    if rows:
        out.write(f"{'torch':7} {'variant':8} {'runs':6} notes\n")
        for f in rows:
            notes = "; ".join((*f.problems, *f.caveats))
            out.write(f"{f.torch:7} {f.variant:8} {_runs(f):6} {notes}".rstrip() + "\n")
    elif advice.torch is not None:
        out.write(f"torch {advice.torch}: no such build in this table\n")
    else:
        out.write("no official torch build runs here (--all shows why)\n")
    _print_hidden([f for f in advice.fits if f not in rows], out)
    _print_advice(advice, out)


def _print_head(advice: MatrixAdvice, out: TextIO) -> None:
    gpus = "; ".join(advice.gpus) or "none given (GPU coverage not checked)"
    out.write(f"GPU: {gpus}\n")
    if advice.does_not_apply:
        out.write(f"does not apply: {advice.does_not_apply}\n")
    driver = advice.driver or "unknown (each build says the driver it needs)"
    out.write(f"driver: {driver} ({advice.os})\n")
    if advice.python:
        out.write(f"Python: {advice.python}\n")
    if advice.torch:
        out.write(f"torch: {advice.torch} (only its builds)\n")


def _runs(build: TorchBuild) -> str:
    if build.runs_with_driver_at_least:
        return "driver"
    return {True: "yes", False: "no", None: "?"}[build.runs]


def _print_hidden(hidden_builds: list[TorchBuild], out: TextIO) -> None:
    """The builds not listed, grouped by the first reason, each naming its variants: a
    reason is said of those builds only (an RTX 5090's "no kernels" is true of 2.7's cu126,
    not of its cu128)."""
    hidden: dict[str, tuple[set[str], set[str]]] = {}
    for f in hidden_builds:
        why = (f.problems or f.caveats or ("cannot tell",))[0]
        if f.runs is None:
            why = "cannot tell: " + why
        releases, variants = hidden.setdefault(why, (set(), set()))
        releases.add(f.torch)
        variants.add(f.variant)
    if hidden:
        out.write("\nnot listed (--all shows them):\n")
        for why, (releases, variants) in hidden.items():
            names = ", ".join(sorted(releases, key=_numbers))
            tags = ", ".join(sorted(variants, key=lambda v: (v == "cpu", _numbers(v[2:] or "0"))))
            out.write(f"  torch {names} ({tags}): {why}\n")


def _numbers(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split(".") if p.isdigit())


def _print_advice(advice: MatrixAdvice, out: TextIO) -> None:
    best = advice.best
    if advice.torch and best is None:
        out.write(f"\nno build of torch {advice.torch} runs here\n")
    if best:
        cond = best.runs_with_driver_at_least
        out.write(
            "\nnewest that runs"
            + (f" (with a driver >= {cond}; the driver is unknown)" if cond else "")
            + f": torch {best.torch} {best.variant}\n  {best.pip}\n"
        )
        if advice.wheel_check:  # its wheel on the index, or why that was not confirmed
            out.write(f"  index: {advice.wheel_check}\n")
    up = advice.upgrade_driver_for_newest
    if up:
        out.write(
            f"\nfor torch {up.torch} ({up.variant}): upgrade the driver to >= "
            f"{up.driver_at_least}\n"
        )
    other = advice.other_release
    if other:
        out.write(
            f"\nnearest release that runs: torch {other.torch} {other.variant}\n  {other.pip}\n"
        )


def _print_plan(plan: PlanAdvice, out: TextIO, *, json_format: bool) -> None:
    """Each instruction and its replacement as a patch: - the lines now, + the lines then."""
    if json_format:
        json.dump(plan.to_dict(), out, indent=2)
        out.write("\n")
        return
    out.write(f"held against: {plan.host}\n")
    if not plan.lines:
        out.write("the plan states no torch build and no CUDA base image to hold against it\n")
    for line in plan.lines:
        out.write(f"\n{line.where} ({line.plan}): {line.why}\n")
        if line.replacement is not None:
            out.writelines(f"- {text}\n" for text in line.instruction.split("\n"))
            out.writelines(f"+ {text}\n" for text in line.replacement.split("\n"))
    for note in plan.notes:
        out.write(f"note: {note}\n")
