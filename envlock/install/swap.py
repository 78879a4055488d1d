"""Replacing a virtual environment without ever removing what restore did not make.

`envlock restore --venv DIR` builds the new venv inside DIR, in a working directory of
its own (RUN: `DIR/.envlock-restore-build/`, the same path every time so uv knows the new
interpreter, or `DIR/.envlock-restore-PID/` when that is taken; same filesystem, so a
mount point works), then swaps entries, never DIR itself:

1. build: `python -m venv` / `uv venv` into RUN/venv, the install into it; the paths
   its scripts and pyvenv.cfg name are then rewritten to DIR's;
2. swap: DIR's own venv entries (VENV_DIRS, VENV_FILES: what `python -m venv` and
   `uv venv` make) move into RUN/old, RUN/venv's entries move into DIR;
3. the caller verifies, then commit() deletes RUN (the old venv with it) or
   roll_back() puts every old entry back and takes the new ones out. Where the new venv
   was built without its empty include/pythonX.Y (install/quick.py), RUN, emptied, is
   renamed to be it: no rmdir after the verdict (2-5 ms each on ext4 mounted with
   discard, as this machine's disk is).

Anything else in DIR is foreign: restore refuses (RestoreError, exit 3) unless
--force, and then leaves it where it is. RUN holds a marker (MARKER: pid, process
start, phase, the names moved in), so a run killed at any point is undone by the
next one: a dead run's RUN is rolled back (phase build or swap) or finished (commit).
A directory named like RUN without a valid marker is never removed, only named.
"""

from __future__ import annotations

import _thread
import errno
import os
import re
from collections.abc import Callable, Iterable

from envlock.errors import RestoreError
from envlock.install.marker import (
    FIXED_RUN,
    RUN_RE,
    TMP_PREFIX,
    TMP_RE,
    alive,
    pid_exists,
    read_marker,
    started_at,
    write_marker,
)
from envlock.install.quick import make_dirs
from envlock.install.quick import remove_run as remove_run
from envlock.install.relocate import relocate
from envlock.install.venvdir import (
    ENTRIES_KEY,
    NAMED,
    OPTIONAL,
    VENV_DIRS,
    VENV_FILES,
    VenvTarget,
    entries,
    error,
    is_empty_dir,
    is_regular,
    refuse_foreign,
    short,
)

_rename = os.rename  # one name for every move (the fuzz test counts them)


# ------------------------------------------------------------------ leftovers
def sweep(final: str | None, log: Callable[[str], None]) -> None:
    """Undo what killed restores left: their working directories in DIR and in the
    temporary directory. What cannot be removed, or is not provably ours, is named."""
    import tempfile

    # DIR's own working directories (may hold an old venv), the temp dir's requirements
    places = [(final, RUN_RE)] if final else []
    for place, pattern in [*places, (tempfile.gettempdir(), TMP_RE)]:
        try:
            names = sorted(os.listdir(place))
        except OSError:
            continue
        for name in names:
            if pattern.fullmatch(name):
                _sweep_one(os.path.join(place, name), final if pattern is RUN_RE else None, log)
    if final:
        _name_old_style(final, log)


def _sweep_one(run: str, final: str | None, log: Callable[[str], None]) -> None:
    mark = read_marker(run)
    if mark is None:
        if is_empty_dir(run):  # killed between mkdir and the marker
            try:  # noqa: SIM105 (contextlib: no import of a replayed restore, ~0.5 ms)
                os.rmdir(run)
            except OSError:
                pass
        elif final is not None and os.path.isdir(run):
            log(f"envlock restore: not removed (named like restore's own, but no marker): {run}")
        return
    if mark.pid == os.getpid() and mark.started == started_at(mark.pid):
        return  # this very run
    if alive(mark):
        log(f"envlock restore: left in place: {run} belongs to a running restore (pid {mark.pid})")
        return
    if mark.phase == "build" and os.path.lexists(os.path.join(run, "old")):
        # only a swap holds an old venv: its marker was lost (markers are not fsynced)
        log(f"envlock restore: not removed (its marker is older than what it holds): {run}")
        return
    try:
        if final is not None and mark.phase == "swap":
            left = undo(run, final, mark.moved_in)
            if left:
                log(
                    f"envlock restore: a killed restore (pid {mark.pid}) had moved aside "
                    f"{', '.join(left)}, which could not go back: they stay in {run}"
                )
                return
            log(f"envlock restore: put back what a killed restore (pid {mark.pid}) had moved aside")
        remove_run(run)
        log(f"envlock restore: removed what a killed restore (pid {mark.pid}) left: {run}")
    except OSError as exc:
        log(f"envlock restore: could not remove {run} (left by pid {mark.pid}): {exc.strerror}")


def _name_old_style(final: str, log: Callable[[str], None]) -> None:
    """envlock 0.1 built beside DIR, without a marker: name its leftovers, never remove."""
    parent, base = os.path.split(final)
    pattern = re.compile(
        rf"(?:\.{re.escape(base)}\.envlock-new|{re.escape(base)}\.envlock-old)-([0-9]{{1,10}})"
    )
    try:
        names = os.listdir(parent)
    except OSError:
        return
    for name in sorted(names):
        match = pattern.fullmatch(name)
        if match and not pid_exists(int(match.group(1))):
            log(f"envlock restore: left by an older envlock restore (remove it yourself): "
                f"{os.path.join(parent, name)}")  # fmt: skip


def undo(run: str, final: str, moved_in: Iterable[str]) -> list[str]:
    """Put DIR back as it was before a swap (complete or not): the entries moved in go
    back to RUN/venv, the held old ones back to DIR. The old ones that could not go back
    (DIR has something of that name again) are returned; they stay in RUN/old."""
    build, old = os.path.join(run, "venv"), os.path.join(run, "old")
    for name in moved_in:
        # a rename is atomic: an entry no longer in RUN/venv is the one in DIR
        if not os.path.lexists(os.path.join(build, name)) and os.path.lexists(
            os.path.join(final, name)
        ):
            os.makedirs(build, exist_ok=True)
            _rename(os.path.join(final, name), os.path.join(build, name))
    left: list[str] = []
    held = sorted(os.listdir(old)) if os.path.isdir(old) else []
    # pyvenv.cfg last: DIR reads as a venv again only once the rest is back
    for name in sorted(held, key=lambda n: n == "pyvenv.cfg"):
        if os.path.lexists(os.path.join(final, name)):
            left.append(name)
        else:
            _rename(os.path.join(old, name), os.path.join(final, name))
    return left


# ------------------------------------------------------------------ one restore's swap
class Swap:
    """One restore into a venv target: begin() (lock DIR, sweep leftovers, make RUN),
    the caller builds into `build`, swap_in(), then commit() or roll_back()."""

    def __init__(self, t: VenvTarget, log: Callable[[str], None]) -> None:
        self.target = t
        self.log = log
        self.made: list[str] = []  # directories this run created (DIR, its parents)
        self.moved_in: tuple[str, ...] = ()
        self.held = False  # swap_in() moved an old venv aside into RUN/old
        self.fd: int | None = None
        self.run_made = False
        self.done = False
        self.kept = False  # committed, the old venv removed without a word
        # the new venv's empty directory (relative to DIR) that RUN, emptied, becomes at
        # commit instead of being removed: install/quick.py builds the venv without it
        self.becomes: str | None = None
        self._emptied: Callable[[], None] = lambda: None  # settle()'s wait

    @classmethod
    def begin(cls, t: VenvTarget, log: Callable[[str], None]) -> Swap:
        swap = cls(t, log)
        try:
            swap._begin()
        except OSError as exc:
            swap._abandon()
            raise error(_os_message(t, exc, "cannot prepare it")) from None
        except BaseException:
            swap._abandon()
            raise
        return swap

    @classmethod
    def begun(
        cls,
        t: VenvTarget,
        log: Callable[[str], None],
        fd: int | None,
        made: list[str],
        becomes: str | None = None,
    ) -> Swap:
        """The Swap of a target whose begin() install/quick.py did: DIR made where
        `made`, flocked on `fd`, RUN made and marked (`t.run`), DIR's leftovers none; the
        new venv built without its empty directory `becomes`, which RUN becomes."""
        swap = cls(t, log)
        swap.fd, swap.made, swap.run_made, swap.becomes = fd, list(made), True, becomes
        return swap

    def _abandon(self) -> None:
        """begin() failed: take away what it made (nothing else is there yet)."""
        self._release()
        try:
            if self.run_made:
                remove_run(self.target.run)
            for made in reversed(self.made):
                os.rmdir(made)
        except OSError:
            pass

    def _begin(self) -> None:
        t = self.target
        make_dirs(t.final, self.made)
        self.fd = os.open(t.final, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))
        try:
            import fcntl

            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise error(
                f"--venv {t.given}: another envlock restore is working on {t.final}"
            ) from None
        except (ImportError, OSError):
            pass  # no flock here (some network filesystems): the markers still guard
        sweep(t.final, self.log)
        try:
            os.mkdir(t.run)
        except FileExistsError:
            if os.path.basename(t.run) != FIXED_RUN:
                raise
            # a live run's (no flock here) or what a killed one left that could not be
            # undone: this run works beside it, under its own pid
            self.target = t = t.of_pid(os.getpid())
            os.mkdir(t.run)
        self.run_made = True
        write_marker(t.run, "build")

    def swap_in(self) -> None:
        """Move the old venv's entries aside and the new venv's in (after its scripts were
        made to name DIR). A failure here leaves the rest to roll_back()."""
        t = self.target
        relocate(t.build, t.suffix)
        new = sorted(os.listdir(t.build))
        ours, foreign = entries(t.final)
        refuse_foreign(t, foreign)  # something appeared during the install
        blocked = [n for n in new if n in foreign and n not in OPTIONAL]
        if blocked:
            raise error(
                f"--venv {t.given}: {', '.join(short(n) for n in blocked[:NAMED])} in "
                f"{t.final} is not the old venv's (left in place under --force) and the new "
                "venv has one too: move it out and restore again; nothing changed"
            )
        moving = [n for n in new if n not in foreign]
        _record_entries(t.build, moving)
        self.moved_in = tuple(moving)
        write_marker(t.run, "swap", moving)
        old = os.path.join(t.run, "old")
        if ours:  # nothing to hold: no directory to remove again (an rmdir is ~2-3 ms here)
            os.mkdir(old)
            self.held = True
        for name in sorted(ours, key=lambda n: n != "pyvenv.cfg"):  # pyvenv.cfg first out
            _rename(os.path.join(t.final, name), os.path.join(old, name))
        for name in sorted(moving, key=lambda n: n == "pyvenv.cfg"):  # and last in
            dest = os.path.join(t.final, name)
            if os.path.lexists(dest):  # a rename would replace a file silently
                raise error(f"--venv {t.given}: {dest} appeared meanwhile; nothing changed")
            _rename(os.path.join(t.build, name), dest)
        # RUN/venv, empty now, goes while the caller verifies the new venv: an rmdir is
        # 2-5 ms here (ext4 mounted with discard) that commit() would wait for after the
        # verdict; undo() makes it again where a roll back needs it
        self._emptied = in_background(lambda: _remove_empty(t.build))

    def settle(self) -> None:
        """Wait for swap_in()'s removal of the emptied build directory."""
        self._emptied()

    def commit(self) -> None:
        """The new venv stays: delete the old one (and the working directory). The commit
        marker first where an old venv is held: its removal cannot be undone, so a run
        killed meanwhile is finished by the next. With none held (DIR was empty or not
        there) the swap's marker stays until RUN goes, and a run killed meanwhile is
        rolled back by the next (DIR as before it, as for any run killed before its
        verdict was told): no marker written after the verdict (2-3 ms on a busy disk)."""
        if self.done:
            return
        self.done = True
        self.settle()
        try:
            if self.held:
                write_marker(self.target.run, "commit", self.moved_in)
            remove_run(self.target.run, self._in_place())
            self.kept = True
        except OSError as exc:
            self.log(
                f"envlock restore: could not remove the old venv held in {self.target.run}: "
                f"{exc.strerror} (the next restore of {self.target.given} removes it)"
            )
        finally:
            self._release()

    def _in_place(self) -> str | None:
        """Where RUN goes once emptied: the new venv's empty directory it stands in for,
        a rename where removing RUN is an rmdir after the verdict (2-5 ms on ext4 mounted
        with discard); None (removed) where that is not the new venv's to have (its
        parent not a directory of its own, or the name taken)."""
        if self.becomes is None:
            return None
        into = os.path.join(self.target.final, self.becomes)
        parent = os.path.dirname(into)
        if os.path.islink(parent) or not os.path.isdir(parent) or os.path.lexists(into):
            return None
        return into

    def roll_back(self, why: str | None = None) -> None:
        """DIR back as it was: the old entries in, the new ones out, RUN removed."""
        if self.done:
            return
        self.done = True
        self.settle()
        t = self.target
        try:
            left = undo(t.run, t.final, self.moved_in) if os.path.isdir(t.run) else []
            if left:
                self.log(
                    f"envlock restore: {', '.join(left)} of the old venv could not go back "
                    f"to {t.final} (something of that name is there): they stay in {t.run}"
                )
            else:
                if os.path.isdir(t.run):
                    remove_run(t.run)
                for made in reversed(self.made):
                    os.rmdir(made)  # only empty: it was not there before
            if why:
                now = "removed again (it did not exist)" if self.made else "as it was"
                self.log(f"envlock restore: {why}: {t.final} is {now}")
        except OSError as exc:
            self.log(f"envlock restore: could not clean up {t.run}: {exc.strerror}")
        finally:
            self._release()

    def _release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing drops the flock
            self.fd = None


def in_background(work: Callable[[], None]) -> Callable[[], None]:
    """work() started in a thread of its own (_thread: no threading import); the
    function returned waits for its end. work() must raise nothing."""
    done = _thread.allocate_lock()
    done.acquire()

    def run() -> None:
        try:
            work()
        finally:
            done.release()

    _thread.start_new_thread(run, ())

    def wait() -> None:
        with done:
            pass

    return wait


def _remove_empty(directory: str) -> None:
    """An empty directory removed; one that is not (an entry --force left), or gone, stays
    for remove_run() or undo()."""
    try:  # noqa: SIM105 (contextlib: no import of a replayed restore, ~0.5 ms)
        os.rmdir(directory)
    except OSError:
        pass


def _record_entries(build: str, moving: list[str]) -> None:
    """Name in the new pyvenv.cfg what else it brings (a package's etc/), so the next
    restore replaces those too instead of calling them foreign."""
    extra = [n for n in moving if n not in VENV_DIRS and n not in VENV_FILES]
    cfg = os.path.join(build, "pyvenv.cfg")
    if not extra or not is_regular(cfg):
        return
    with open(cfg, "a", encoding="utf-8") as fh:
        fh.write(f"{ENTRIES_KEY} = {', '.join(extra)}\n")


def _os_message(t: VenvTarget, exc: OSError, what: str) -> str:
    where = f" ({exc.filename})" if exc.filename else ""
    hint = " (a mount point inside it?)" if exc.errno in (errno.EBUSY, errno.EXDEV) else ""
    return f"--venv {t.given}: {what}: {exc.strerror}{where}{hint}; {t.final} left as it was"


def os_failure(t: VenvTarget, exc: OSError) -> RestoreError:
    return error(_os_message(t, exc, "cannot build the new venv in it and swap it in"))


# ------------------------------------------------------------------ --python's temp dir
def temp_run(log: Callable[[str], None]) -> str:
    """A marked temporary directory for the requirements of a restore into --python."""
    import tempfile

    sweep(None, log)
    run = tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{os.getpid()}-")
    write_marker(run, "build")
    return run
