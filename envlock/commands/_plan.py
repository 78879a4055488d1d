"""The options naming a plan (envlock doctor --plan, envlock matrix --plan): the files,
--build-arg and --target, checked into typed arguments."""

from __future__ import annotations

import argparse


def add_plan_arguments(parser: argparse.ArgumentParser) -> None:
    p = parser.add_argument_group("a plan, checked before anything is built")
    p.add_argument(
        "--plan",
        action="append",
        default=[],
        metavar="FILE",
        help="a Dockerfile, compose file, Kubernetes manifest, requirements file, pylock.toml, "
        "uv.lock, pyproject.toml or environment.yml (repeatable; the kind is detected)",
    )
    p.add_argument(
        "--build-arg",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a Dockerfile build argument, as docker build --build-arg (repeatable)",
    )
    p.add_argument(
        "--target", metavar="STAGE", help="the Dockerfile stage to check (default: the last)"
    )
    # None unless given: probing is the default, and either flag without --plan is refused
    p.add_argument(
        "--no-probe-base",
        dest="probe_base",
        action="store_const",
        const=False,
        default=None,
        help="do not probe a base image whose tag states nothing; by default one (python:3.11, "
        "an NGC tag) is probed as --image does when it is present locally (never pulled)",
    )
    p.add_argument(
        "--probe-base",
        dest="probe_base",
        action="store_const",
        const=True,
        help="the default (kept for scripts that name it)",
    )


def add_matrix_fleet_refusal(parser: argparse.ArgumentParser) -> None:
    """matrix's --facts-dir: declared so that it is refused with one usage line (and said
    in --help) instead of argparse's "unrecognized arguments"."""
    parser.add_argument(
        "--facts-dir",
        dest="matrix_facts_dir",
        metavar="DIR",
        help="not taken: a replacement line is written for one machine (this host or "
        "--facts); `envlock doctor --plan FILE --facts-dir DIR` holds a plan against every "
        "kind of node of a fleet",
    )


def plan_options(args: argparse.Namespace) -> tuple[dict[str, str], str | None]:
    """--build-arg and --target, checked (a UsageError without --plan or without '=')."""
    from envlock.errors import UsageError

    if getattr(args, "matrix_facts_dir", None):
        # one replacement per instruction: which kind of node it would be written for is
        # the user's choice, so name the command that judges every kind instead
        raise UsageError(
            "matrix --plan holds a plan against one machine (this host or --facts), not "
            "--facts-dir: envlock doctor --plan FILE --facts-dir DIR judges every kind of node"
        )

    if not args.plan and (args.build_arg or args.target or args.probe_base is not None):
        raise UsageError("--build-arg, --target and --probe-base apply to a --plan file")
    args.probe_base = args.probe_base is not False  # the default: probe
    others = [
        o
        for o in ("python", "image", "container", "collect_env", "nvidia_smi", "pip_freeze")
        if getattr(args, o, None)
    ]
    if args.plan and others:
        raise UsageError(
            f"--plan is held against this host or --facts, not --{others[0].replace('_', '-')}"
        )
    build_args: dict[str, str] = {}
    for item in args.build_arg:
        name, eq, value = item.partition("=")
        if not eq or not name:
            raise UsageError(f"--build-arg {item!r}: expected NAME=VALUE")
        build_args[name] = value
    return build_args, args.target
