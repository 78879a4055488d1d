"""`fleet report DIR` over two processes: a large fleet's files are cut in two, the second
half summarised by a forked child while this process reads the first, and the child's
table merged into this one's as if one process had read every file in order.

Only where it pays and is safe: SPLIT_FROM files or more, two CPUs or more for this
process, `os.fork` available and no other thread running (a fork copies a lock another
thread holds). A child that fails in any way (killed, an error, a result that does not
load) costs nothing but time: its half is then read here. The result is the same either
way: ranks are renumbered after this process's files, each kind of the child's table is
added to this one's in the child's order (a kind both halves hold is one), and the
doctor's errors of a kind are those of its first node, as when one process reads all.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from envlock.findings import Finding
from envlock.fleet.compare import FleetTable, Value

# Below this many files a fork and the merge cost more than half the reading saves.
SPLIT_FROM = 2000


@dataclass(slots=True)
class Part:
    """What one process made of its files, in file order: the nodes read (host, file name;
    a node's rank is its place here), the findings of the files it could not read, the
    table of their summaries and the doctor's errors per kind of that table."""

    read: list[tuple[str, str]] = field(default_factory=list)
    unreadable: list[Finding] = field(default_factory=list)
    table: FleetTable = field(default_factory=FleetTable)
    doctor: dict[int, list[Finding]] = field(default_factory=dict)

    def merge(self, later: Part) -> None:
        """`later`'s files appended after this part's, as if read here in order."""
        offset, table = len(self.read), self.table
        rebase: Callable[[dict[str, Value]], dict[str, Value]] | None = None
        for index, kind in enumerate(later.table.kinds):
            (rank, host), *rest = kind.members
            if table.kinds:
                rebase = rebase or _rebase(table.base, later.table.base)
                mine = table.add_delta(rank + offset, host, rebase(kind.delta), kind.findings)
            else:  # this part read nothing: a None in a delta is a field this kind lacks
                fields = {**later.table.base, **kind.delta}
                mine = table.add(rank + offset, host, fields, kind.findings)
            for rank, host in rest:
                table.join(mine, rank + offset, host)
            # a kind this part held already keeps its first node's errors
            self.doctor.setdefault(mine, later.doctor.get(index, []))
        self.read += later.read
        self.unreadable += later.unreadable


def _rebase(
    base: dict[str, Value], other: dict[str, Value]
) -> Callable[[dict[str, Value]], dict[str, Value]]:
    """A delta from the first kind `other` as the delta `FleetTable.add` would find from
    `base` (by repr; None: a field the kind lacks): only the delta's fields and those where
    the two first kinds differ are looked at (10,000 nodes with another numpy each: one)."""
    names = sorted(base.keys() | other.keys())  # sorted: the same deltas on every run
    differ = [n for n in names if repr(base.get(n)) != repr(other.get(n))]

    def rebase(delta: dict[str, Value]) -> dict[str, Value]:
        out: dict[str, Value] = {}
        for name in (*delta, *differ):
            value = delta[name] if name in delta else other.get(name)
            first = base.get(name)
            if value is None:
                if first is not None:
                    out[name] = None
            elif repr(value) != repr(first):  # an absent first: repr(None)
                out[name] = value
        return out

    return rebase


def worth_it(files: int) -> bool:
    """Whether to read `files` files over two processes."""
    if files < SPLIT_FROM or not hasattr(os, "fork") or threading.active_count() > 1:
        return False
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return cpus >= 2


class Child:
    """`work()` run in a forked child, its Part pickled back through a pipe."""

    def __init__(self, work: Callable[[], Part]) -> None:
        read_end, write_end = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # the child: never returns, never prints
            os.close(read_end)
            _serve(work, write_end)
        os.close(write_end)
        self.fd, self.reaped = read_end, False

    def result(self) -> Part | None:
        """The child's Part, None when it failed (this process then reads its files)."""
        chunks = []
        try:
            while chunk := os.read(self.fd, 1 << 20):
                chunks.append(chunk)
        except OSError:
            chunks = []
        if self._end(kill=False) != 0 or not chunks:
            return None
        try:
            part = pickle.loads(b"".join(chunks))  # our own child's bytes
        except Exception:  # a child that failed half-way: read here instead
            return None
        return part if isinstance(part, Part) else None

    def stop(self) -> None:
        """End a child whose result is not wanted (this process stopped: an error, ^C)."""
        self._end(kill=True)

    def _end(self, *, kill: bool) -> int:
        """The pipe closed and the child reaped (killed first when `kill`): its status."""
        if self.reaped:
            return -1
        self.reaped = True
        os.close(self.fd)
        if kill:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
        return os.waitpid(self.pid, 0)[1]


def _serve(work: Callable[[], Part], fd: int) -> None:
    """In the child: the Part written to `fd`, then exit 0; 1 on any failure. Never returns
    into the caller's code (os._exit: no atexit handlers, no buffers flushed twice)."""
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # ^C ends the child with the parent
        data = memoryview(pickle.dumps(work(), protocol=pickle.HIGHEST_PROTOCOL))
        while data:
            data = data[os.write(fd, data) :]
        code = 0
    except BaseException:  # the parent reads this half itself
        code = 1
    finally:
        os._exit(code)
