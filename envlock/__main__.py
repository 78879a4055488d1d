import sys

from envlock.usecases.warmverify import run


def _cli(argv: list[str]) -> int:
    from envlock.cli import main

    return main(argv)


# a warm `envlock verify` answers before the CLI loads (usecases/warmverify.py)
code = run(sys.argv[1:], _cli)
sys.exit(_cli(sys.argv[1:]) if code is None else code)
