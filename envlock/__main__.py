import sys

from envlock.usecases.warmverify import run


def _cli(argv: list[str]) -> int:
    from envlock.cli import main

    return main(argv)


def _failed(exc: BaseException) -> int:
    from envlock.cli import failed

    return failed(exc)


# a warm `envlock verify` answers before the CLI loads (usecases/warmverify.py)
code = run(sys.argv[1:], _cli)
if code is not None:
    sys.exit(code)
if sys.argv[1:2] == ["restore"]:  # a repeat restore installs before the CLI loads
    from envlock.install.quick import start_plain

    try:
        start_plain(sys.argv[1:])  # uv first: warmrestore and ahead load while it runs
    except KeyboardInterrupt as exc:
        code = _failed(exc)
    else:
        from envlock.usecases.warmrestore import ahead

        code = ahead(sys.argv[1:], _cli, _failed)
if sys.argv[1:2] == ["probe"]:  # `probe --image IMAGE --json` too (usecases/imageprobe.py)
    from envlock.cli import guarded
    from envlock.usecases.imageprobe import run as probe_image

    code = probe_image(sys.argv[1:], guarded)
from envlock.cli import leave  # noqa: E402  (after the warm path, which needs no CLI)

leave(_cli(sys.argv[1:]) if code is None else code)
