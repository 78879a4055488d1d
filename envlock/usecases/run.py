"""envlock run's check: the interpreter the command will run, found from the command
itself, verified against the lock (envlock's own interpreter is not the job's)."""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from envlock.findings import Report

# python, python3, python3.11 (what a command or a shebang names as the interpreter)
_PYTHON_NAME = re.compile(r"python(\d+(\.\d+)?)?")
# pip's launcher for a path too long for a shebang: `#!/bin/sh` then this line
_PIP_EXEC = re.compile(r"""^'''exec' "?([^" ]+)"? "\$0" "\$@"$""")
_HEAD_BYTES = 1024  # a shebang and pip's second line fit in it


@dataclass(frozen=True, kw_only=True, slots=True)
class Interpreter:
    """The interpreter a command runs, and how envlock knows (said in the output)."""

    path: str
    how: str  # "python on PATH", "shebang of /venv/bin/torchrun", "--python", ...
    guessed: bool = False  # not found from the command: envlock's own interpreter

    def describe(self) -> str:
        return f"{self.path} ({self.how})"


@dataclass(frozen=True, kw_only=True, slots=True)
class RunCheck:
    report: Report
    interpreter: Interpreter


def command_interpreter(
    cmd: Sequence[str], *, python: str | None = None, env: Mapping[str, str] | None = None
) -> Interpreter:
    """The Python `cmd` will run: `--python` when given; `python`/`python3` (or a path to
    one) as the command's PATH resolves it (so `python -m torch.distributed.run` too);
    the interpreter in a console script's shebang (torchrun, accelerate, deepspeed);
    otherwise (a shell script, srun) envlock's own, flagged as a guess."""
    if python:
        return Interpreter(path=python, how="--python")
    environ = dict(env if env is not None else os.environ)
    if cmd and os.path.basename(cmd[0]) == "env":
        rest = _after_env(cmd[1:], environ)
        found = command_interpreter(rest, env=environ) if rest else None
        if found is None or found.guessed:
            return _own("env runs no Python command here: name it with --python")
        return Interpreter(path=found.path, how=f"{found.how}, after env")
    path = environ.get("PATH", os.defpath)
    program = shutil.which(cmd[0], path=path) if cmd else None
    if program is None:
        return _own("the command was not found")
    if _PYTHON_NAME.fullmatch(os.path.basename(cmd[0])):
        where = "the path given" if os.sep in cmd[0] else "python on the command's PATH"
        return Interpreter(path=os.path.abspath(program), how=where)
    named = _shebang_python(program, path)
    if named is not None:
        return Interpreter(path=named, how=f"the shebang of {program}")
    return _own(f"{os.path.basename(cmd[0])} is not a Python command: name it with --python")


def _after_env(args: Sequence[str], environ: dict[str, str]) -> list[str]:
    """The command `env ARGS` runs, `environ` changed as env(1) changes it: -i (or -)
    clears it, -u NAME / --unset=NAME removes NAME, NAME=VALUE sets it."""
    i, options = 0, True
    while i < len(args):
        a = args[i]
        if options and a in ("-i", "--ignore-environment", "-"):
            environ.clear()
        elif options and a in ("-u", "--unset") and i + 1 < len(args):
            environ.pop(args[i + 1], None)
            i += 1
        elif options and a.startswith(("--unset=", "-u")) and len(a) > 2:
            environ.pop(a.split("=", 1)[1] if a.startswith("--") else a[2:], None)
        elif options and a == "--":
            options = False
        elif "=" in a and not a.startswith("="):
            name, _, value = a.partition("=")
            environ[name] = value
            options = False  # env reads its options only before the first assignment
        else:
            return list(args[i:])
        i += 1
    return []


def _own(why: str) -> Interpreter:
    return Interpreter(path=sys.executable, how=f"envlock's own interpreter; {why}", guessed=True)


def _shebang_python(program: str, path: str) -> str | None:
    """The Python interpreter a script's first line (or pip's sh launcher) names."""
    try:
        with open(program, "rb") as f:
            head = f.read(_HEAD_BYTES)
    except OSError:
        return None
    if not head.startswith(b"#!"):
        return None
    lines = head.decode("utf-8", "replace").splitlines()
    words = lines[0][2:].split()
    if not words:
        return None
    if os.path.basename(words[0]) == "env":  # #!/usr/bin/env [-S] python3
        rest = [w for w in words[1:] if not w.startswith("-") and "=" not in w]
        if rest and _PYTHON_NAME.fullmatch(os.path.basename(rest[0])):
            return shutil.which(rest[0], path=path)
        return None
    if _PYTHON_NAME.fullmatch(os.path.basename(words[0])):
        return words[0]
    if os.path.basename(words[0]) == "sh" and len(lines) > 1:
        found = _PIP_EXEC.match(lines[1].strip())
        if found and _PYTHON_NAME.fullmatch(os.path.basename(found.group(1))):
            return found.group(1)
    return None


def run_check(
    cmd: Sequence[str],
    lock: str | os.PathLike[str],
    *,
    python: str | None,
    scope: str,
    strict: bool,
    use_cache: bool,
) -> RunCheck:
    """Verify (with the doctor's errors, as preflight does) the interpreter `cmd` runs."""
    from envlock.collect import Source
    from envlock.usecases.verify import VerifyOptions, verify

    interpreter = command_interpreter(cmd, python=python)
    # envlock's own interpreter is probed in-process (and its live facts cached)
    other = None if _same(interpreter.path, sys.executable) else interpreter.path
    options = VerifyOptions(
        scope=scope, cache=use_cache, strict=strict, doctor_errors=True, command="preflight"
    )
    report = verify(lock, Source(python=other), facts=None, options=options).report
    return RunCheck(report=report, interpreter=interpreter)


def _same(a: str, b: str) -> bool:
    """The same interpreter path: not resolved through symlinks (a venv's python links to
    its base interpreter, another environment)."""
    return os.path.normpath(os.path.abspath(a)) == os.path.normpath(os.path.abspath(b))
