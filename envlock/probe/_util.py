"""Small helpers shared by the probe sources: file reads and subprocesses that never raise.

Python 3.8 compatible and standard library only: this package is copied into
container images with old interpreters.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator


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


def line_starts(text: str) -> Iterator[int]:
    """Where a pattern's ^ matches under re.MULTILINE: 0 and after each "\n" (the probe's
    few line parsers are written without re, which a served probe does not import)."""
    start = 0
    while True:
        yield start
        newline = text.find("\n", start)
        if newline < 0:
            return
        start = newline + 1


def skip_space(text: str, i: int) -> int:
    r"""Past what a greedy \s* matches from `i` (re's \s is str.isspace(), newlines too)."""
    while i < len(text) and text[i].isspace():
        i += 1
    return i


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


class Spawned:
    """A command started now and read later (`result`), as run_command runs it (stdin
    /dev/null, stdout read, stderr dropped), through os.posix_spawn: a served probe whose
    only command is `ldconfig -p` then never imports subprocess (~5 ms of a container
    probe) and the command runs while the probe imports its sections."""

    def __init__(self, argv: list[str]) -> None:
        # `signal` builds enums (~2 ms); _signal is CPython's built-in under it
        from _signal import SIGKILL, SIGPIPE, SIGXFSZ  # type: ignore[import-not-found]

        self.sigkill: int = SIGKILL

        read, write = os.pipe()
        self.pid: int | None = None
        self.error: str | None = None
        try:
            devnull = os.open(os.devnull, os.O_RDWR)
            try:
                actions = [
                    (os.POSIX_SPAWN_DUP2, devnull, 0),
                    (os.POSIX_SPAWN_DUP2, write, 1),
                    (os.POSIX_SPAWN_DUP2, devnull, 2),
                ]
                # the signals Python ignores back to their defaults, as subprocess does
                self.pid = os.posix_spawn(
                    argv[0], argv, os.environ, file_actions=actions, setsigdef=(SIGPIPE, SIGXFSZ)
                )
            finally:
                os.close(devnull)
        except OSError as exc:
            self.error = str(exc)
        finally:
            os.close(write)
        self.fd = read

    def result(self, timeout: float) -> tuple[int | None, str, str]:
        """(returncode, stdout, ""); returncode None when it could not run or timed out
        (then it is killed), as run_command says."""
        import select
        import time

        deadline = time.monotonic() + max(timeout, 0.1)
        chunks: list[bytes] = []
        try:
            while self.pid is not None:
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                    return self._killed(timeout)
                data = os.read(self.fd, 65536)
                if not data:
                    break
                chunks.append(data)
        finally:
            os.close(self.fd)
        if self.pid is None:
            return None, "", self.error or "could not start"
        status = os.waitpid(self.pid, 0)[1]
        code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -os.WTERMSIG(status)
        return code, b"".join(chunks).decode("utf-8", "replace"), ""

    def _killed(self, timeout: float) -> tuple[int | None, str, str]:
        import contextlib

        assert self.pid is not None
        with contextlib.suppress(OSError):  # it ended meanwhile
            os.kill(self.pid, self.sigkill)
        os.waitpid(self.pid, 0)
        return None, "", f"timed out after {timeout:g} s"
