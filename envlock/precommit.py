"""The pre-commit hook `envlock-verify`: `envlock verify` of the project's interpreter.

pre-commit installs envlock into an environment of its own for the hook (language:
python), so the hook runs whether or not a venv is activated; that environment holds
no torch, so the hook verifies the project's interpreter through `--python` (the probe
is served to it from memory: envlock need not be installed there). pre-commit points
VIRTUAL_ENV and the head of PATH at its own environment, so the project's interpreter
is found past it: the first python on PATH when it belongs to a venv (an activated
one), else the project's `.venv`, else the first python on PATH. `--python PATH` in
the hook's `args:` chooses it instead.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

LOCK = "envlock.lock.toml"
_NAMES = ("python", "python3")


def _own_bin() -> Path:
    """The bin directory of the environment pre-commit made for the hook."""
    return Path(sys.prefix, "bin").resolve()


def _on_path(path: str) -> Path | None:
    """The first python on `path` that is not the hook's own environment's."""
    own = _own_bin()
    for entry in path.split(os.pathsep):
        if not entry or Path(entry).resolve() == own:
            continue
        for name in _NAMES:
            candidate = Path(entry, name)
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return candidate
    return None


def project_python(path: str, cwd: Path) -> tuple[Path | None, str]:
    """The project's interpreter and why it was chosen (None: no python found)."""
    first = _on_path(path)
    if first is not None and (first.parent.parent / "pyvenv.cfg").is_file():
        return first, "the activated venv"
    dotvenv = cwd / ".venv" / "bin" / "python"
    if dotvenv.is_file():
        return dotvenv, "the project's .venv"
    return first, "the first python on PATH"


def main(argv: Sequence[str] | None = None) -> int:
    from envlock.cli import main as envlock_main

    args = list(sys.argv[1:] if argv is None else argv)
    if not any(a == "--python" or a.startswith("--python=") for a in args):
        python, why = project_python(os.environ.get("PATH", ""), Path.cwd())
        if python is None:
            print(
                "envlock-verify: error: no python on PATH and no .venv here: "
                "set the hook's args to [--python, /path/to/venv/bin/python]",
                file=sys.stderr,
            )
            return 3
        print(f"envlock-verify: checking {python} ({why})", file=sys.stderr)
        args += ["--python", str(python)]
    if not args or args[0].startswith("-"):
        args.insert(0, LOCK)
    return envlock_main(["verify", *args])


if __name__ == "__main__":
    sys.exit(main())
