"""The options every command that ends in a Report shares: --format, --strict, --ignore,
and -o (where the rendered report goes)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from envlock.findings import Report


def add_report_arguments(
    parser: argparse.ArgumentParser,
    *,
    formats: Sequence[str],
    example_id: str,
    output: bool = False,
) -> None:
    parser.add_argument(
        "--format", choices=formats, default="text", help="output format (default text)"
    )
    parser.add_argument("--strict", action="store_true", help="warnings fail too")
    parser.add_argument(
        "--ignore",
        action="append",
        default=[],
        metavar="ID",
        help=f"drop findings with this ID, e.g. {example_id} (repeatable, or comma-separated; "
        "`envlock doctor --list-checks` lists them)",
    )
    if output:
        add_output_argument(parser)


def add_output_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-o",
        "--output",
        default="-",
        metavar="FILE",
        help="write the report to FILE, atomically (default: stdout); a symlink is "
        "followed only to a file in its own directory",
    )


def write_output(path: str, text: str, what: str) -> None:
    """Write a rendered report to -o FILE: atomic, regular files only, a symlink only to a
    file beside it (OutputError, exit 3, otherwise); `wrote FILE (what)` on stderr."""
    from envlock.api import write_output as write

    write(path, text)
    print(f"wrote {path} ({what})", file=sys.stderr)


def emit(report: Report, args: argparse.Namespace) -> None:
    """Render the report in --format to stdout, or to -o FILE when the command has it."""
    from envlock.report import render

    path = getattr(args, "output", "-")
    if path == "-":
        render(report, args.format, sys.stdout)
        return
    import io

    buf = io.StringIO()
    render(report, args.format, buf)
    write_output(path, buf.getvalue(), args.format)
