"""python -m envlock.probe [--no-torch-live] [--timeout S] [--target NAME] -> Facts JSON on stdout.

Exit 0 whenever the facts could be written, even with unavailable sources;
exit 3 with one line on stderr only when the probe itself cannot run.
"""

from __future__ import annotations

import os
import sys

# typing is not imported at run time (a served probe's start-up).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn

CANNOT_RUN = 3


def main(argv: list[str] | None = None) -> int:
    import argparse  # not in run(): argparse pulls in gettext, locale and shutil (~6 ms)

    parser = argparse.ArgumentParser(
        prog="python -m envlock.probe",
        description="Print this machine's envlock facts as JSON (standard library only).",
    )
    parser.add_argument(
        "--no-torch-live",
        action="store_true",
        help="skip the child process that imports torch (no cuDNN/NCCL/arch flags; faster)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=30.0,
        metavar="S",
        help="time limit in seconds (default 30)",
    )
    parser.add_argument(
        "--target", default="host", metavar="NAME", help="what meta.target says (default host)"
    )
    args = parser.parse_args(argv)
    if not args.timeout > 0:
        parser.error("--timeout must be a positive number of seconds")
    return run(torch_live=not args.no_torch_live, timeout=args.timeout, target=args.target)


def served(opts: list[str]) -> NoReturn:
    """The entry under the bootstrap (probe/_served.py) that serves the probe to an image
    or to --python: the options envlock.payload writes, read by hand (argparse ~6 ms).
    The process is the probe's alone: once its output is flushed it ends without the
    interpreter's teardown of every module and thread (~10 ms of a container probe)."""

    def value(flag: str) -> str:
        return opts[opts.index(flag) + 1]

    status = run(
        torch_live="--no-torch-live" not in opts,
        timeout=float(value("--timeout")),
        target=value("--target"),
        sections=tuple(value("--sections").split(",")) if "--sections" in opts else None,
    )
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a reader gone: run() said so already
            status = status or CANNOT_RUN
    os._exit(status)


def run(
    *, torch_live: bool, timeout: float, target: str, sections: tuple[str, ...] | None = None
) -> int:
    """Probe (only `sections`, when given) and print the Facts JSON."""
    try:
        from envlock.probe import probe_host
        from envlock.probe._jsontext import dumps_indented

        facts = probe_host(torch_live=torch_live, timeout=timeout, target=target, sections=sections)
        # json.dumps(facts, indent=2) without json, which a served probe never imports
        text = dumps_indented(facts)
    except Exception as exc:  # the probe itself broke: one line, no traceback
        sys.stderr.write(f"envlock.probe: cannot run: {type(exc).__name__}: {exc}\n")
        return CANNOT_RUN
    try:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    except (BrokenPipeError, OSError) as exc:
        sys.stderr.write(f"envlock.probe: cannot write the facts: {exc}\n")
        return CANNOT_RUN
    return 0


if __name__ == "__main__":
    sys.exit(main())
