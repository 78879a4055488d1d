"""envlock export LOCK: the lock as requirements, a PEP 751 pylock, or a Dockerfile."""

from __future__ import annotations

import argparse
import sys

from envlock import DISTRIBUTION

HELP = "write a lock as requirements, a PEP 751 pylock.toml or a Dockerfile"
DESCRIPTION = """\
Turn a lock into what installers read:

  requirements  name==version lines (with --hash when the lock has hashes), the
                index line the torch variant needs, comments for what cannot be
                restored (editable and local-path installs)
  pylock        a PEP 751 pylock.toml (needs `envlock lock --hashes`), for
                `uv pip sync` / `uv pip install -r`
  dockerfile    a Dockerfile that installs the requirements on --base (default:
                the lock's own image digest), sets the locked variables, runs as
                a non-root user and ends with `envlock verify --scope software`,
                so the build fails if the result drifted

--variant cu126 exports another CUDA variant of the locked torch release (the
CUDA wheels are then left to the installer). --torch-index URL uses a mirror
for the torch variant's index; 'none' leaves it to the pip configuration.
"""

FORMATS = ("requirements", "pylock", "dockerfile")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("lock", metavar="LOCK", help="the lock file (e.g. envlock.lock.toml)")
    parser.add_argument(
        "--format", choices=FORMATS, default="requirements", help="default: requirements"
    )
    parser.add_argument(
        "-o", "--output", default="-", metavar="FILE", help="where to write (default: stdout)"
    )
    parser.add_argument("--variant", metavar="VARIANT", help="another torch variant (cu126, cpu)")
    parser.add_argument("--torch-index", metavar="URL", help="a mirror, or 'none'")
    parser.add_argument("--base", metavar="IMAGE", help="dockerfile: the base image")
    parser.add_argument(
        "--wheelhouse",
        metavar="DIR",
        help="dockerfile: install from this directory of the build context only (no network)",
    )
    parser.add_argument(
        "--envlock-spec",
        default=DISTRIBUTION,
        metavar="REQ",
        help=f"dockerfile: what to pip install for the final verify step (default: {DISTRIBUTION})",
    )


def run(args: argparse.Namespace) -> None:
    from envlock import api

    text = api.export_lock(
        args.lock,
        args.format,
        variant=args.variant,
        torch_index=args.torch_index,
        base=args.base,
        wheelhouse=args.wheelhouse,
        envlock_spec=args.envlock_spec,
    )
    if args.output == "-":
        sys.stdout.write(text)
        return
    api.write_export(args.output, text)
    print(f"wrote {args.output} ({args.format})", file=sys.stderr)
