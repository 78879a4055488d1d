"""The marker of a restore's working directory (install/swap.py): which process made it,
when that process started (against pid reuse), and how far it got, so that the next
restore can tell a dead run's leftovers from a running one's and from a user's
look-alike directory, which is never removed."""

from __future__ import annotations

import json
import os
import re

from envlock.frozen import Frozen
from envlock.install.quick import (  # the names and the writer, for a start without json
    FIXED_RUN,
    MARKER,
    RUN_PREFIX,
    boot_id,
    marker_text,
    proc_stat,
    started_at,
    write_marker,
)
from envlock.install.quickplan import read_small

# the names install/quick.py holds, read here as before
__all__ = [
    "FIXED_RUN",
    "MARKER",
    "RUN_PREFIX",
    "boot_id",
    "read_small",
    "started_at",
    "write_marker",
]

TMP_PREFIX = "envlock-restore-"
PHASES = ("build", "swap", "commit")

RUN_RE = re.compile(r"\.envlock-restore-([0-9]{1,10}|build)")
TMP_RE = re.compile(r"envlock-restore-([0-9]{1,10})-[A-Za-z0-9_]{1,32}")


class Marker(Frozen):
    """A working directory's marker (envlock/frozen.py: read before a repeat restore
    starts uv, which imports no dataclasses)."""

    __slots__ = ("boot", "moved_in", "phase", "pid", "started")
    pid: int
    started: str | None  # the process's start time (/proc/PID/stat), against pid reuse
    boot: str | None  # /proc/sys/kernel/random/boot_id: a start time is per boot
    phase: str
    moved_in: tuple[str, ...]

    def __init__(
        self,
        *,
        pid: int,
        started: str | None,
        boot: str | None,
        phase: str,
        moved_in: tuple[str, ...] = (),
    ) -> None:
        self._set(pid=pid, started=started, boot=boot, phase=phase, moved_in=moved_in)

    def to_json(self) -> str:
        return marker_text(self.pid, self.started, self.boot, self.phase, self.moved_in)


def read_marker(run: str) -> Marker | None:
    """The marker of a restore's working directory; None unless it is one, valid, and
    written by the process its name says, any process for FIXED_RUN (a user's
    look-alike directory is not ours)."""
    match = RUN_RE.fullmatch(os.path.basename(run)) or TMP_RE.fullmatch(os.path.basename(run))
    if match is None or os.path.islink(run) or not os.path.isdir(run):
        return None
    data = read_small(os.path.join(run, MARKER), 64 * 1024)
    try:
        doc = json.loads(data.decode("utf-8")) if data is not None else None
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    named = match.group(1)
    return marker_of(doc, int(named) if named.isdigit() else None)


def marker_of(doc: object, pid: int | None) -> Marker | None:
    """The marker in `doc` when it is one written by `pid` (None: by any process)."""
    if not isinstance(doc, dict) or doc.get("envlock-restore") != 1:
        return None
    writer = _writer(doc)
    if writer is None or writer != (writer if pid is None else pid):
        return None
    if type(doc["envlock-restore"]) is not int:  # `true` where 1 was written
        return None
    return _fields(doc, writer)


def _fields(doc: dict[object, object], pid: int) -> Marker | None:
    """The rest of a marker written by `pid`, when every field is as written."""
    phase, moved = doc.get("phase"), doc.get("moved-in")
    started, boot = doc.get("started"), doc.get("boot")
    if not isinstance(phase, str) or phase not in PHASES or not isinstance(moved, list):
        return None
    names = [n for n in moved if isinstance(n, str) and plain_name(n)]
    if len(names) != len(moved):
        return None
    if not (started is None or isinstance(started, str)):
        return None
    if not (boot is None or isinstance(boot, str)):
        return None
    return Marker(pid=pid, started=started, boot=boot, phase=phase, moved_in=tuple(names))


def _writer(doc: dict[object, object]) -> int | None:
    """The pid a marker names, when it can be a process's (an int, not `true`; pid 0 is
    the kernel's)."""
    pid = doc.get("pid")
    return pid if type(pid) is int and pid > 0 else None


def alive(mark: Marker) -> bool:
    """Whether the process that wrote the marker still runs (a reused pid does not)."""
    if mark.boot is not None and boot_id() not in (None, mark.boot):
        return False
    try:
        os.kill(mark.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process: it exists
    except (OSError, OverflowError):
        return False
    fields = proc_stat(mark.pid)
    if fields is None:
        return True
    if fields[0] in ("Z", "X"):  # killed, not yet reaped
        return False
    return mark.started is None or len(fields) <= 19 or fields[19] == mark.started


def pid_exists(pid: int) -> bool:
    return alive(Marker(pid=pid, started=None, boot=None, phase="build"))


def plain_name(name: str) -> bool:
    return bool(name) and name not in (".", "..") and "/" not in name and "\0" not in name
