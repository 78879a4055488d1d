"""Small helpers shared by the probe sources: file reads and subprocesses that never raise.

Python 3.8 compatible and standard library only: this package is copied into
container images with old interpreters.
"""

from __future__ import annotations

import os


def read_text(path: str, limit: int = 1 << 20) -> str | None:
    """The file's text, or None when it cannot be read (missing, permission, not text, not
    a regular file: a FIFO named METADATA must not block the probe)."""
    import io

    from envlock.probe._regular import open_regular

    try:
        with open_regular(path) as raw, io.TextIOWrapper(raw, "utf-8", "replace") as fh:
            return fh.read(limit)
    except (OSError, ValueError):
        return None


def read_int(path: str) -> int | None:
    text = read_text(path, 4096)
    if text is None:
        return None
    try:
        return int(text.strip(), 0)
    except ValueError:
        return None


def run_command(argv: list[str], timeout: float) -> tuple[int | None, str, str]:
    """(returncode, stdout, stderr); returncode None when it could not run or timed out.

    The one subprocess chokepoint of the probe: a missing executable, a hang or
    undecodable output is a value here, never an exception.
    """
    import subprocess  # only when something runs: a warm probe of this host runs nothing

    try:
        proc = subprocess.run(
            argv,
            capture_output=True,
            stdin=subprocess.DEVNULL,
            timeout=max(timeout, 0.1),
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None, "", f"timed out after {timeout:g} s"
    except (OSError, ValueError) as exc:
        return None, "", str(exc)
    out = proc.stdout.decode("utf-8", "replace")
    err = proc.stderr.decode("utf-8", "replace")
    return proc.returncode, out, err


def which(name: str, path: str | None = None) -> str | None:
    for d in (path if path is not None else os.environ.get("PATH", "")).split(os.pathsep):
        if not d:
            continue
        cand = os.path.join(d, name)
        if os.path.isfile(cand) and os.access(cand, os.X_OK):
            return cand
    return None
