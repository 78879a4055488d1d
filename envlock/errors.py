"""The EnvlockError tree and the exit codes the CLI maps them to."""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    OK = 0
    FINDINGS = 1  # drift or error-level findings (warnings too under --strict)
    USAGE = 2
    CANNOT_RUN = 3  # envlock could not do its job: unreadable lock, docker unreachable, ...
    INTERNAL = 4  # a bug in envlock
    EXEC_FAILED = 126  # envlock run: the command was found but could not be executed
    NOT_FOUND = 127  # envlock run: the command was not found (what a shell gives)
    HANGUP = 129  # 128 + SIGHUP: the terminal went away mid-run
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT), as shells report it
    TERMINATED = 143  # 128 + SIGTERM: docker stop, a scheduler's kill


class EnvlockError(Exception):
    """An expected failure: reported as one line, exit code CANNOT_RUN unless overridden."""

    exit_code: ExitCode = ExitCode.CANNOT_RUN


class Signalled(KeyboardInterrupt):
    """SIGTERM or SIGHUP turned into an exception so cleanup runs; exit 128 + signum."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"signal {signum}")
        self.signum = signum


class UsageError(EnvlockError):
    exit_code = ExitCode.USAGE


class FactsError(EnvlockError):
    """A facts document that does not match the Facts model."""


class LockError(EnvlockError):
    """A lock file that is missing, unreadable, corrupt or of an unknown version."""


class OutputError(EnvlockError):
    """An output file (-o) that cannot or must not be written."""


class ProbeError(EnvlockError):
    """A probe that could not run at all (not: a source that was unavailable)."""


class ContainerError(EnvlockError):
    """Docker unreachable, image missing, container died mid-probe."""


class ExecError(EnvlockError):
    """envlock run could not execute the command (found, but not runnable)."""

    exit_code = ExitCode.EXEC_FAILED


class CommandNotFoundError(EnvlockError):
    """envlock run: no such command (on PATH, or the path given)."""

    exit_code = ExitCode.NOT_FOUND


class DeterminismError(EnvlockError):
    """The determinism suite could not run."""


def first_line(text: object, default: str = "") -> str:
    """The first non-blank line of an error's text, stripped: a one-line reason."""
    for line in str(text).splitlines():
        if line.strip():
            return line.strip()
    return default


def last_line(text: object, default: str = "") -> str:
    """The last non-blank line, stripped: where a child's stderr says why it failed."""
    for line in reversed(str(text).splitlines()):
        if line.strip():
            return line.strip()
    return default


class RestoreError(EnvlockError):
    """export/restore/lock --hashes could not do its job (a lock without packages, an
    unknown variant, an unreachable index, a version or hash the index does not have):
    exit 3, nothing installed."""
