"""Small helpers shared by the probe sources: file reads and subprocesses that never raise.

Python 3.8 compatible and standard library only: this package is copied into
container images with old interpreters.
"""

from __future__ import annotations

import os
import re
import subprocess

# typing is not imported at run time (~3 ms of every container probe).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def read_text(path: str, limit: int = 1 << 20) -> str | None:
    """The file's text, or None when it cannot be read (missing, permission, not text)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
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


_LIB_PREFIXES = (
    "libcuda.so",
    "libcudart",
    "libcudnn",
    "libnccl",
    "libcublas",
    "libcusparse",
    "libcufft",
    "libcurand",
    "libcusolver",
    "libnvJitLink",
    "libnvrtc",
    "libnvidia-ml",
    "libcupti",
)
_SO_RE = re.compile(r"\.so(\.\d+)*$")


def is_cuda_library(filename: str) -> bool:
    """True for the shared libraries whose version skew breaks torch (cuDNN, NCCL, cuBLAS...)."""
    base = os.path.basename(filename)
    return base.startswith(_LIB_PREFIXES) and bool(_SO_RE.search(base))


def mapped_libraries(maps_text: str) -> list[str]:
    """Paths of CUDA-family libraries mapped into a process, from /proc/PID/maps text."""
    seen: dict[str, None] = {}
    for line in maps_text.splitlines():
        parts = line.split(None, 5)
        if len(parts) == 6 and parts[5].startswith("/") and is_cuda_library(parts[5]):
            seen.setdefault(parts[5].strip(), None)
    return list(seen)


def first_line(text: str) -> str:
    for line in text.strip().splitlines():
        if line.strip():
            return line.strip()
    return ""


def compact(d: dict[str, Any]) -> dict[str, Any]:
    """Drop None values so defaults of the Facts model apply."""
    return {k: v for k, v in d.items() if v is not None}
