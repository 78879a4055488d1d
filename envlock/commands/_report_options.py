"""The options every command that ends in a Report shares: --format, --strict, --ignore."""

from __future__ import annotations

import argparse
from collections.abc import Sequence


def add_report_arguments(
    parser: argparse.ArgumentParser, *, formats: Sequence[str], example_id: str
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
