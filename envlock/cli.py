"""Argument parsing, dispatch and exit codes: the only place that maps a result to one.

Each subcommand lives in envlock/commands/<name>.py and exposes HELP,
DESCRIPTION, add_arguments(parser) and run(args), which parses nothing more,
calls envlock.api, renders, and returns the Report (or None for a command that
only prints, or an ExitCode for matrix and run). Only the chosen command's
module is imported, and it imports rich, docker and tomli_w inside run(),
so `envlock verify` starts fast.
"""

from __future__ import annotations

import os
import sys

from envlock import DISTRIBUTION, __version__
from envlock.errors import EnvlockError, ExitCode

# typing (~5 ms in a user's venv): the console script imports this module, and a repeat
# restore starts its install before it imports typing
# (tests/commands/test_restore_warm.py::test_a_repeat_restore_starts_uv_before_it_imports_typing),
# nor contextlib or importlib (install/quick.py: nothing a Python start has not loaded)
TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse  # loaded by build_parser: a command answered before the parser needs none
    from collections.abc import Callable, Iterable, Sequence
    from types import ModuleType
    from typing import Any, NoReturn, TextIO

    from envlock.findings import Report

# Order is the order of `envlock --help`.
COMMANDS: tuple[str, ...] = (
    "probe",
    "doctor",
    "lock",
    "verify",
    "matrix",
    "determinism",
    "run",
    "explain",
    "fleet",
    "report",
    "export",
    "restore",
    "completion",
)
# Commands that read the whole parser (the others load only their own module).
WHOLE_PARSER = ("completion",)

EPILOG = """\
exit codes:
  0  all good
  1  drift, or error-level findings (warnings too with --strict)
  2  usage error
  3  envlock could not do its job (unreadable lock, Docker unreachable, ...)
  4  internal error in envlock (please report it with the traceback)
  126  envlock run: the command could not be executed
  127  envlock run: the command was not found
  129  hangup (SIGHUP)
  130  interrupted (Ctrl-C)
  143  terminated (SIGTERM, e.g. docker stop)
"""


def _load(name: str) -> ModuleType:
    import importlib

    return importlib.import_module(f"envlock.commands.{name}")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The full parser; with `command`, only that subcommand's module is imported
    (the others get a bare entry), which keeps start-up fast for `envlock verify`."""
    import argparse
    from pathlib import Path

    parser = argparse.ArgumentParser(
        prog="envlock",
        description="Environment doctor and reproducibility lock file for PyTorch on NVIDIA GPUs.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    # which `envlock` is on PATH: the unrelated PyPI project `envlock` installs one too
    parser.add_argument(
        "--version",
        action="version",
        version=f"envlock {__version__} (PyTorch/NVIDIA environment doctor; distribution "
        f"{DISTRIBUTION}, {Path(__file__).resolve().parent})",
    )
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="no progress on stderr (before the command: `envlock -q restore ...`); "
        "the report and errors still print",
    )
    parser.set_defaults(_root=parser)  # `envlock completion` writes its script from it
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        if command is not None and name != command:
            sub.add_parser(name)
            continue
        module = _load(name)
        p = sub.add_parser(
            name,
            help=module.HELP,
            description=getattr(module, "DESCRIPTION", module.HELP),
            epilog=EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(p)
        p.set_defaults(_module=module)
    return parser


def _command_of(argv: Sequence[str]) -> str | None:
    """The subcommand named in argv, if any comes before an option that needs the full parser."""
    for arg in argv:
        if arg in ("-h", "--help"):
            return None
        if not arg.startswith("-"):
            return arg if arg in COMMANDS and arg not in WHOLE_PARSER else None
    return None


def _quiet() -> Callable[[], None]:
    from envlock.report.progress import quiet_until_done  # only when asked: start-up

    return quiet_until_done()


def _nothing() -> None:
    return None


def interrupt_in_chain(exc: BaseException) -> KeyboardInterrupt | None:
    """The Ctrl-C or Signalled that caused `exc`: a signal arriving while dataclasses runs
    __set_name__ during an import comes back wrapped in a RuntimeError."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        if isinstance(cur, KeyboardInterrupt):
            return cur
        seen.add(id(cur))
        cur = cur.__cause__ or cur.__context__
    return None


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(_command_of(argv))
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help(sys.stderr)
        return ExitCode.USAGE
    return guarded(lambda: args._module.run(args), quiet=args.quiet)


def guarded(run: Callable[[], Report | ExitCode | None], *, quiet: bool = False) -> int:
    """Runs a command's `run` as the CLI runs every command: stdout a reader may leave,
    no progress with `quiet`; the exit code its result means, or its error's one line and
    exit code (Ctrl-C 130, a bug's traceback 4)."""
    stdout = sys.stdout
    sys.stdout = ReaderMayLeave(stdout)
    loud_again = _quiet() if quiet else _nothing
    try:
        return int(exit_code(run()))
    except Exception as exc:
        return failed(exc)
    except KeyboardInterrupt as exc:
        return failed(exc)
    finally:
        loud_again()
        # flushed here, so a reader that left early (`| head -c1`, `| true`) changes no
        # exit code and the interpreter's last flush cannot fail
        if isinstance(sys.stdout, ReaderMayLeave):
            sys.stdout.flush()
        sys.stdout = stdout


def failed(exc: BaseException) -> int:
    """What ended a command early, said in one line (a bug: its traceback), and the exit
    code it means. (Also for usecases/warmrestore.py's restore, run before the CLI loads.)"""
    if isinstance(exc, EnvlockError):
        from envlock.report.safe import plain  # one line, whatever a file's keys held

        print(f"envlock: error: {plain(exc, newlines=False)}", file=sys.stderr)
        return int(exc.exit_code)
    signal_exc = exc if isinstance(exc, KeyboardInterrupt) else interrupt_in_chain(exc)
    if signal_exc is not None:  # also a signal inside a class being built (an import)
        print("envlock: interrupted", file=sys.stderr)
        # CPython (3.11) remembers a KeyboardInterrupt that escaped an exec() of a
        # string (dataclasses build methods that way, so Ctrl-C during an import can
        # land there) and then kills the process with SIGINT at exit, however the
        # interrupt was handled. Evaluating one string resets that flag: exit 130.
        exec("")
        signum = int(getattr(signal_exc, "signum", 2))  # Signalled: SIGTERM/SIGHUP; Ctrl-C 2
        return 128 + signum  # what a shell reports: 130, 143, 129
    if not isinstance(exc, Exception):
        raise exc  # SystemExit and the like are not a command's failure
    import traceback  # only for a bug: ~3 ms of every start otherwise

    traceback.print_exception(exc)
    print(
        "envlock: internal error (a bug in envlock): please report the traceback above",
        file=sys.stderr,
    )
    return ExitCode.INTERNAL


class ReaderMayLeave:
    """sys.stdout while a command runs. The verdict is the Report's, decided whatever
    happens to the output: when the reader closes the pipe (EPIPE), later output goes to
    /dev/null, silently, and the command goes on to its own exit code. (Without this a
    write raises BrokenPipeError mid-render, or rich turns it into exit 1.)"""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.reader_left = False

    def write(self, text: str) -> int:
        if not self.reader_left:
            try:
                return self._stream.write(text)
            except BrokenPipeError:
                self._to_devnull()
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        if not self.reader_left:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._to_devnull()

    def _to_devnull(self) -> None:
        self.reader_left = True
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, self._stream.fileno())
        finally:
            os.close(devnull)
        # what is still buffered goes to /dev/null now; the interpreter's flush at exit too
        try:  # noqa: SIM105 (contextlib: no import before a repeat restore's uv)
            self._stream.flush()
        except (OSError, ValueError):
            pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def exit_code(outcome: Report | ExitCode | None) -> ExitCode:
    """What a command's result means to the shell: a Report fails on error-level findings
    (warnings too under --strict); None is success; an ExitCode is itself."""
    if outcome is None:
        return ExitCode.OK
    if isinstance(outcome, ExitCode):
        return outcome
    return ExitCode.FINDINGS if outcome.failed else ExitCode.OK


def entry() -> None:
    argv = sys.argv[1:]
    code = None
    if argv[:1] == ["restore"]:  # a repeat restore starts installing before the CLI runs
        from envlock.install.quick import start_plain

        try:
            start_plain(argv)  # uv first: warmrestore and ahead load while it runs
        except KeyboardInterrupt as exc:
            leave(failed(exc))
        from envlock.usecases.warmrestore import ahead

        code = ahead(argv, main, failed)
    else:
        from envlock.usecases.warmverify import run

        code = run(argv, main)  # a warm `envlock verify` answers from its stored output
        if code is not None:
            sys.exit(code)
    if argv[:1] == ["probe"]:  # `probe --image IMAGE --json` too, before the parser loads
        from envlock.usecases.imageprobe import run as probe_image

        code = probe_image(argv, guarded)
    leave(main(argv) if code is None else code)


def leave(code: int) -> NoReturn:
    """Ends envlock with `code` as any exit does (atexit's handlers run, the standard
    streams are flushed), then without the interpreter's teardown of every module and
    object, 20-50 ms after a container probe. A non-daemon thread still running (an
    executor's worker) gets the usual exit, which waits for it."""
    import atexit

    threading = sys.modules.get("threading")  # never imported: no thread of its started
    if threading is not None:
        main_thread = threading.main_thread()
        if any(not t.daemon for t in threading.enumerate() if t is not main_thread):
            sys.exit(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:  # noqa: SIM105 (contextlib: no import before a repeat restore's uv)
            stream.flush()
        except (OSError, ValueError):  # a reader gone: nothing to flush to
            pass
    os._exit(code)
