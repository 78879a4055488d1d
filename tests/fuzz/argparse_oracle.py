"""The oracle of the fuzz tests that hold a fast path (envlock's answer before argparse loads:
warm verify, warm doctor, the plain image probe) to the CLI: what argparse reads."""

from __future__ import annotations

import contextlib
import io

from envlock import cli


def parsed(command: str, argv: list[str]) -> object | None:
    """argparse's namespace for `command`'s argv, or None for a usage error."""
    parser = cli.build_parser(command)
    with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
        try:
            return parser.parse_args(argv)
        except SystemExit:
            return None
