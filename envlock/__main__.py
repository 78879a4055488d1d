import sys

from envlock.usecases.warmverify import run


def _cli(argv: list[str]) -> int:
    from envlock.cli import main

    return main(argv)


# a warm `envlock verify` answers before the CLI loads (usecases/warmverify.py)
code = run(sys.argv[1:], _cli)
if code is not None:
    sys.exit(code)
from envlock.cli import leave  # noqa: E402  (after the warm path, which needs no CLI)

leave(_cli(sys.argv[1:]))
