"""envlock run --lock LOCK -- CMD: verify, then become CMD (exit code and signals are CMD's)."""

from __future__ import annotations

import argparse
import os
import shutil
import sys

from envlock.errors import CommandNotFoundError, ExecError, ExitCode, UsageError
from envlock.lock.model import DEFAULT_LOCK_NAME, SCOPES

HELP = "verify against a lock, then exec a command (a pre-flight wrapper for training launches)"
DESCRIPTION = """\
Verify this environment against LOCK, then replace this process with CMD
(os.exec: CMD's exit code and signals reach the caller unchanged). On drift
the report goes to stderr and CMD does not run (exit 1), unless --warn-only.

  envlock run --lock envlock.lock.toml -- python train.py --bf16

The environment checked is the one CMD runs: `python`/`python3` as CMD's PATH
resolves it (`python -m ...` too), or the interpreter in a console script's
shebang (torchrun, accelerate, deepspeed). For a shell script or a launcher
(srun, mpirun) name it with --python; without it envlock's own interpreter is
checked, and the output says so.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--lock",
        default=DEFAULT_LOCK_NAME,
        metavar="LOCK",
        help=f"lock file (default {DEFAULT_LOCK_NAME})",
    )
    parser.add_argument(
        "--python",
        metavar="PY",
        help="the interpreter CMD runs, when CMD is a shell script or a launcher (srun)",
    )
    parser.add_argument("--scope", choices=SCOPES, default="full")
    parser.add_argument(
        "--warn-only", action="store_true", help="report drift but run the command anyway"
    )
    parser.add_argument("--strict", action="store_true", help="warnings count as drift")
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="re-probe torch instead of using the cached live facts",
    )
    parser.add_argument(
        "cmd", nargs=argparse.REMAINDER, metavar="-- CMD ...", help="the command to run"
    )


def run(args: argparse.Namespace) -> ExitCode:
    cmd = list(args.cmd)
    if cmd and cmd[0] == "--":
        cmd = cmd[1:]
    if not cmd:
        raise UsageError("no command given: envlock run --lock LOCK -- CMD ...")
    if shutil.which(cmd[0]) is None:
        raise CommandNotFoundError(f"command not found: {cmd[0]}")
    from envlock.api import run_check

    checked = run_check(
        cmd,
        args.lock,
        python=args.python,
        scope=args.scope,
        strict=args.strict,
        use_cache=not args.no_cache,
    )
    report = checked.report
    print(f"envlock: checked {checked.interpreter.describe()}", file=sys.stderr)
    if report.failed:
        from envlock.report import render

        render(report, "text", sys.stderr)
        if not args.warn_only:
            print(
                "envlock: drift: not running the command (use --warn-only to run anyway)",
                file=sys.stderr,
            )
            return ExitCode.FINDINGS
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execvp(cmd[0], cmd)  # only returns by raising
    except FileNotFoundError:
        raise CommandNotFoundError(f"command not found: {cmd[0]}") from None
    except OSError as exc:
        raise ExecError(f"cannot run {cmd[0]}: {exc.strerror}") from None
