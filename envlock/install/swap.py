"""Replacing a virtual environment without ever removing what restore did not make.

`envlock restore --venv DIR` builds the new venv inside DIR, in a working directory of
its own (`DIR/.envlock-restore-PID/`, same filesystem, so a mount point works), then
swaps entries, never DIR itself:

1. build: `python -m venv` / `uv venv` into RUN/venv, the install into it; the paths
   its scripts and pyvenv.cfg name are then rewritten to DIR's;
2. swap: DIR's own venv entries (VENV_DIRS, VENV_FILES: what `python -m venv` and
   `uv venv` make) move into RUN/old, RUN/venv's entries move into DIR;
3. the caller verifies, then commit() deletes RUN (the old venv with it) or
   roll_back() puts every old entry back and takes the new ones out.

Anything else in DIR is foreign: restore refuses (RestoreError, exit 3) unless
--force, and then leaves it where it is. RUN holds a marker (MARKER: pid, process
start, phase, the names moved in), so a run killed at any point is undone by the
next one: a dead run's RUN is rolled back (phase build or swap) or finished (commit).
A directory named like RUN without a valid marker is never removed, only named.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from envlock.errors import RestoreError
from envlock.safeio import UnreadableFile, read_bounded

# What `python -m venv` and `uv venv` (and pip's data files: share/) make in a venv.
# lib* is spelled out: lib32/lib64 are the only siblings venv makes, and a user's
# `libs/` or `library/` beside a venv must stay foreign.
VENV_DIRS = frozenset(
    {"bin", "Scripts", "include", "Include", "lib", "Lib", "lib32", "lib64", "share"}
)
VENV_FILES = frozenset({"pyvenv.cfg", ".gitignore", "CACHEDIR.TAG", ".lock"})
# uv's own markers: not needed by the venv, so a user's file of that name wins
OPTIONAL = frozenset({".gitignore", "CACHEDIR.TAG", ".lock"})
CACHEDIR_SIGNATURE = b"Signature: 8a477f597d28d172789f06886806bc55"
# pyvenv.cfg key naming the entries beyond VENV_DIRS/VENV_FILES that a restore moved in
# (a package's data files, e.g. etc/jupyter), so the next restore may replace them too
ENTRIES_KEY = "envlock-entries"
RUN_PREFIX = ".envlock-restore-"
TMP_PREFIX = "envlock-restore-"
MARKER = "envlock-restore.json"
REQUIREMENTS_FILE = "requirements.envlock.txt"
PHASES = ("build", "swap", "commit")
NAMED = 5  # foreign names in a refusal; the rest are counted

_RUN_RE = re.compile(r"\.envlock-restore-([0-9]{1,10})")
_TMP_RE = re.compile(r"envlock-restore-([0-9]{1,10})-[A-Za-z0-9_]{1,32}")
_rename = os.rename  # one name for every move (the fuzz test counts them)


@dataclass(frozen=True, kw_only=True, slots=True)
class VenvTarget:
    """Where a venv goes (`final`, absolute, symlinks and `..` resolved) and where it is
    built (`build`, inside `run`, inside `final`)."""

    given: str  # --venv as given, for messages
    final: str
    force: bool
    run: str
    build: str

    @property
    def suffix(self) -> str:
        """What the build path adds to the final one: removed from scripts on relocation
        (whatever quoting a tool used for the path, the suffix has nothing to quote)."""
        return self.build[len(self.final.rstrip("/")) :]


def target(venv: str, *, force: bool, pid: int | None = None) -> VenvTarget:
    """The target of `--venv venv`; RestoreError when it holds what is not a venv's own
    (unless force) or is not a directory. Reads DIR, changes nothing."""
    if not venv or "\0" in venv:
        raise _error(f"--venv {venv!r}: not a path")
    final = os.path.realpath(venv)  # absolute; `..`, `.` and symlinks resolved
    if os.path.islink(final):
        raise _error(f"--venv {venv}: a symlink that does not resolve (a loop)")
    if os.path.lexists(final) and not os.path.isdir(final):
        raise _error(f"--venv {venv}: exists and is not a directory: not replaced")
    run = os.path.join(final, f"{RUN_PREFIX}{os.getpid() if pid is None else pid}")
    made = VenvTarget(
        given=venv, final=final, force=force, run=run, build=os.path.join(run, "venv")
    )
    refuse_foreign(made, entries(final)[1])
    return made


def refuse_foreign(t: VenvTarget, foreign: list[str]) -> None:
    if not foreign or t.force:
        return
    shown = ", ".join(_short(n) for n in foreign[:NAMED])
    more = f" (and {len(foreign) - NAMED} more)" if len(foreign) > NAMED else ""
    what = (
        "holds what a virtual environment's tools did not make"
        if os.path.isfile(os.path.join(t.final, "pyvenv.cfg"))
        else "is not a virtual environment (no pyvenv.cfg) and not empty"
    )
    raise _error(
        f"--venv {t.given}: {t.final} {what}: {shown}{more}; restore replaces only a venv's "
        "own entries (bin, lib, include, share, pyvenv.cfg): move those out, or pass "
        "--force to build beside them (they are left in place)"
    )


def _error(text: str) -> RestoreError:
    """One line whatever DIR and its entries are called (a name may hold a newline)."""
    from envlock.report.safe import plain

    return RestoreError(plain(text, newlines=False))


def _short(name: str) -> str:
    """A name as it goes into a one-line message: escaped, and cut when long."""
    from envlock.report.safe import plain

    name = plain(name, newlines=False)
    return name if len(name) <= 60 else name[:57] + "..."


def entries(final: str) -> tuple[list[str], list[str]]:
    """(ours, foreign): DIR's entries a venv's tools made (only when DIR is a venv: it
    has a pyvenv.cfg) and all others. A restore's working directory is neither."""
    try:
        names = sorted(os.listdir(final))
    except (FileNotFoundError, NotADirectoryError):
        return [], []
    except OSError as exc:
        raise _error(f"{final}: cannot list it: {exc.strerror}") from None
    is_venv = _is_regular(os.path.join(final, "pyvenv.cfg"))
    recorded = recorded_entries(os.path.join(final, "pyvenv.cfg")) if is_venv else set()
    ours: list[str] = []
    foreign: list[str] = []
    for name in names:
        path = os.path.join(final, name)
        if _RUN_RE.fullmatch(name) and (_marker(path) is not None or _is_empty_dir(path)):
            continue
        if is_venv and (venv_made(path) or (name in recorded and _exists(path))):
            ours.append(name)
        else:
            foreign.append(name)
    return ours, foreign


def venv_made(path: str) -> bool:
    """Whether an entry is one a venv's tools make: the name, and for uv's marker files
    their content (a project's own .gitignore is not uv's `*`)."""
    name = os.path.basename(path)
    if name in VENV_DIRS:
        return os.path.isdir(path) or os.path.islink(path)  # lib64 -> lib; a link frees nothing
    if name == "pyvenv.cfg":
        return _is_regular(path)
    if name not in VENV_FILES or not _is_regular(path):
        return False
    data = _small(path)
    if data is None:
        return False
    if name == ".lock":
        return data == b""
    if name == "CACHEDIR.TAG":
        return data.startswith(CACHEDIR_SIGNATURE)
    lines = [ln.strip() for ln in data.splitlines()]
    return [ln for ln in lines if ln and not ln.startswith(b"#")] == [b"*"]


def recorded_entries(cfg: str) -> set[str]:
    """The names pyvenv.cfg's ENTRIES_KEY line lists (written by an earlier restore)."""
    data = _small(cfg, 64 * 1024)
    out: set[str] = set()
    for line in (data or b"").decode("utf-8", "replace").splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() == ENTRIES_KEY:
            out |= {n.strip() for n in value.split(",") if _plain_name(n.strip())}
    return out


def _plain_name(name: str) -> bool:
    return bool(name) and name not in (".", "..") and "/" not in name and "\0" not in name


def _is_regular(path: str) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def _exists(path: str) -> bool:
    return os.path.lexists(path)


def _is_empty_dir(path: str) -> bool:
    try:
        return not os.path.islink(path) and os.path.isdir(path) and not os.listdir(path)
    except OSError:
        return False


def _small(path: str, limit: int = 1024) -> bytes | None:
    try:
        return read_bounded(path, limit)
    except UnreadableFile:
        return None


# ------------------------------------------------------------------ the run's marker
@dataclass(frozen=True, kw_only=True, slots=True)
class Marker:
    pid: int
    started: str | None  # the process's start time (/proc/PID/stat), against pid reuse
    boot: str | None  # /proc/sys/kernel/random/boot_id: a start time is per boot
    phase: str
    moved_in: tuple[str, ...] = ()

    def to_json(self) -> str:
        return json.dumps(
            {
                "envlock-restore": 1,
                "pid": self.pid,
                "started": self.started,
                "boot": self.boot,
                "phase": self.phase,
                "moved-in": list(self.moved_in),
            }
        )


def _marker(run: str) -> Marker | None:
    """The marker of a restore's working directory; None unless it is one, valid, and
    written by the process its name says (a user's look-alike directory is not ours)."""
    match = _RUN_RE.fullmatch(os.path.basename(run)) or _TMP_RE.fullmatch(os.path.basename(run))
    if match is None or os.path.islink(run) or not os.path.isdir(run):
        return None
    data = _small(os.path.join(run, MARKER), 64 * 1024)
    try:
        doc = json.loads(data.decode("utf-8")) if data is not None else None
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return _marker_of(doc, int(match.group(1)))


def _marker_of(doc: object, pid: int) -> Marker | None:
    if not isinstance(doc, dict) or doc.get("envlock-restore") != 1 or doc.get("pid") != pid:
        return None
    if type(doc["envlock-restore"]) is not int or type(doc["pid"]) is not int:  # not true
        return None
    phase, moved = doc.get("phase"), doc.get("moved-in")
    started, boot = doc.get("started"), doc.get("boot")
    if phase not in PHASES or not isinstance(moved, list):
        return None
    names = [n for n in moved if isinstance(n, str) and _plain_name(n)]
    if len(names) != len(moved) or not all(
        v is None or isinstance(v, str) for v in (started, boot)
    ):
        return None
    return Marker(pid=pid, started=started, boot=boot, phase=phase, moved_in=tuple(names))


def write_marker(run: str, phase: str, moved_in: Iterable[str] = ()) -> None:
    """Atomically (a half-written marker would make the run look foreign)."""
    pid = os.getpid()
    mark = Marker(
        pid=pid, started=_started(pid), boot=_boot(), phase=phase, moved_in=tuple(moved_in)
    )
    tmp = os.path.join(run, MARKER + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(mark.to_json())
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, os.path.join(run, MARKER))


def _started(pid: int) -> str | None:
    stat_line = _proc_stat(pid)
    return stat_line[19] if stat_line and len(stat_line) > 19 else None


def _proc_stat(pid: int) -> list[str] | None:
    """/proc/PID/stat's fields after the command name (state first), or None."""
    data = _small(f"/proc/{pid}/stat", 4096)
    if data is None:
        return None
    return data.decode("ascii", "replace").rpartition(")")[2].split()


def _boot() -> str | None:
    data = _small("/proc/sys/kernel/random/boot_id", 256)
    return data.decode("ascii", "replace").strip() if data else None


def alive(mark: Marker) -> bool:
    """Whether the process that wrote the marker still runs (a reused pid does not)."""
    if mark.boot is not None and _boot() not in (None, mark.boot):
        return False
    try:
        os.kill(mark.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process: it exists
    except (OSError, OverflowError):
        return False
    fields = _proc_stat(mark.pid)
    if fields is None:
        return True
    if fields[0] in ("Z", "X"):  # killed, not yet reaped
        return False
    return mark.started is None or len(fields) <= 19 or fields[19] == mark.started


# ------------------------------------------------------------------ leftovers
def sweep(final: str | None, log: Callable[[str], None]) -> None:
    """Undo what killed restores left: their working directories in DIR and in the
    temporary directory. What cannot be removed, or is not provably ours, is named."""
    import tempfile

    # DIR's own working directories (may hold an old venv), the temp dir's requirements
    places = [(final, _RUN_RE)] if final else []
    for place, pattern in [*places, (tempfile.gettempdir(), _TMP_RE)]:
        try:
            names = sorted(os.listdir(place))
        except OSError:
            continue
        for name in names:
            if pattern.fullmatch(name):
                _sweep_one(os.path.join(place, name), final if pattern is _RUN_RE else None, log)
    if final:
        _name_old_style(final, log)


def _sweep_one(run: str, final: str | None, log: Callable[[str], None]) -> None:
    mark = _marker(run)
    if mark is None:
        if _is_empty_dir(run):  # killed between mkdir and the marker
            with contextlib.suppress(OSError):
                os.rmdir(run)
        elif final is not None and os.path.isdir(run):
            log(f"envlock restore: not removed (named like restore's own, but no marker): {run}")
        return
    if mark.pid == os.getpid() and mark.started == _started(mark.pid):
        return  # this very run
    if alive(mark):
        log(f"envlock restore: left in place: {run} belongs to a running restore (pid {mark.pid})")
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
        if match and not _pid_exists(int(match.group(1))):
            log(f"envlock restore: left by an older envlock restore (remove it yourself): "
                f"{os.path.join(parent, name)}")  # fmt: skip


def _pid_exists(pid: int) -> bool:
    return alive(Marker(pid=pid, started=None, boot=None, phase="build"))


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


def remove_run(run: str) -> None:
    """Remove a restore's working directory, its marker last (so a run killed while
    removing is still recognised as ours)."""
    for name in os.listdir(run):
        if name == MARKER:
            continue
        path = os.path.join(run, name)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.unlink(path)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(os.path.join(run, MARKER))
    os.rmdir(run)


# ------------------------------------------------------------------ one restore's swap
class Swap:
    """One restore into a venv target: begin() (lock DIR, sweep leftovers, make RUN),
    the caller builds into `build`, swap_in(), then commit() or roll_back()."""

    def __init__(self, t: VenvTarget, log: Callable[[str], None]) -> None:
        self.target = t
        self.log = log
        self.made: list[str] = []  # directories this run created (DIR, its parents)
        self.moved_in: tuple[str, ...] = ()
        self.fd: int | None = None
        self.run_made = False
        self.done = False

    @classmethod
    def begin(cls, t: VenvTarget, log: Callable[[str], None]) -> Swap:
        swap = cls(t, log)
        try:
            swap._begin()
        except OSError as exc:
            swap._abandon()
            raise _error(_os_message(t, exc, "cannot prepare it")) from None
        except BaseException:
            swap._abandon()
            raise
        return swap

    def _abandon(self) -> None:
        """begin() failed: take away what it made (nothing else is there yet)."""
        self._release()
        with contextlib.suppress(OSError):
            if self.run_made:
                remove_run(self.target.run)
            for made in reversed(self.made):
                os.rmdir(made)

    def _begin(self) -> None:
        t = self.target
        _makedirs(t.final, self.made)
        self.fd = os.open(t.final, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))
        try:
            import fcntl

            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise _error(
                f"--venv {t.given}: another envlock restore is working on {t.final}"
            ) from None
        except (ImportError, OSError):
            pass  # no flock here (some network filesystems): the markers still guard
        sweep(t.final, self.log)
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
            raise _error(
                f"--venv {t.given}: {', '.join(_short(n) for n in blocked[:NAMED])} in "
                f"{t.final} is not the old venv's (left in place under --force) and the new "
                "venv has one too: move it out and restore again; nothing changed"
            )
        moving = [n for n in new if n not in foreign]
        _record_entries(t.build, moving)
        self.moved_in = tuple(moving)
        write_marker(t.run, "swap", moving)
        old = os.path.join(t.run, "old")
        os.mkdir(old)
        for name in sorted(ours, key=lambda n: n != "pyvenv.cfg"):  # pyvenv.cfg first out
            _rename(os.path.join(t.final, name), os.path.join(old, name))
        for name in sorted(moving, key=lambda n: n == "pyvenv.cfg"):  # and last in
            dest = os.path.join(t.final, name)
            if os.path.lexists(dest):  # a rename would replace a file silently
                raise _error(f"--venv {t.given}: {dest} appeared meanwhile; nothing changed")
            _rename(os.path.join(t.build, name), dest)

    def commit(self) -> None:
        """The new venv stays: delete the old one (and the working directory)."""
        if self.done:
            return
        self.done = True
        try:
            write_marker(self.target.run, "commit", self.moved_in)
            remove_run(self.target.run)
        except OSError as exc:
            self.log(
                f"envlock restore: could not remove the old venv held in {self.target.run}: "
                f"{exc.strerror} (the next restore of {self.target.given} removes it)"
            )
        finally:
            self._release()

    def roll_back(self, why: str | None = None) -> None:
        """DIR back as it was: the old entries in, the new ones out, RUN removed."""
        if self.done:
            return
        self.done = True
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


def _makedirs(path: str, made: list[str]) -> None:
    """os.makedirs that adds the directories it made to `made`, outermost first (also
    when it fails halfway)."""
    missing: list[str] = []
    head = path
    while head and not os.path.lexists(head):
        missing.append(head)
        parent = os.path.dirname(head)
        if parent == head:
            break
        head = parent
    for directory in reversed(missing):
        os.mkdir(directory)
        made.append(directory)


def _record_entries(build: str, moving: list[str]) -> None:
    """Name in the new pyvenv.cfg what else it brings (a package's etc/), so the next
    restore replaces those too instead of calling them foreign."""
    extra = [n for n in moving if n not in VENV_DIRS and n not in VENV_FILES]
    cfg = os.path.join(build, "pyvenv.cfg")
    if not extra or not _is_regular(cfg):
        return
    with open(cfg, "a", encoding="utf-8") as fh:
        fh.write(f"{ENTRIES_KEY} = {', '.join(extra)}\n")


def _os_message(t: VenvTarget, exc: OSError, what: str) -> str:
    where = f" ({exc.filename})" if exc.filename else ""
    hint = " (a mount point inside it?)" if exc.errno in (errno.EBUSY, errno.EXDEV) else ""
    return f"--venv {t.given}: {what}: {exc.strerror}{where}{hint}; {t.final} left as it was"


def os_failure(t: VenvTarget, exc: OSError) -> RestoreError:
    return _error(_os_message(t, exc, "cannot build the new venv in it and swap it in"))


def relocate(build: str, suffix: str) -> None:
    """Make a venv built at `build` name its final path: `suffix` (build = final + suffix)
    is dropped wherever it appears in its scripts (shebangs, pip's `exec` trampolines,
    activate*) and pyvenv.cfg. The suffix needs no quoting, so this holds whatever quoting
    a tool applied to the path around it (a space, a quote, non-ASCII in DIR)."""
    needle = suffix.encode()
    scripts = [
        os.path.join(build, d) for d in ("bin", "Scripts") if os.path.isdir(os.path.join(build, d))
    ]
    candidates = [os.path.join(build, "pyvenv.cfg")]
    for folder in scripts:
        candidates += [os.path.join(folder, n) for n in sorted(os.listdir(folder))]
    for path in candidates:
        if not _is_regular(path):
            continue  # bin/python -> the base interpreter: not ours to touch
        with open(path, "rb") as fh:
            head = fh.read(4096)
            if b"\0" in head:
                continue  # a binary (uv, ninja): no script
            data = head + fh.read()
        if needle in data:
            with open(path, "r+b") as fh:  # same inode: mode and owner stay
                fh.write(plain_shebang(data.replace(needle, b"")))
                fh.truncate()


# pip (distlib) and uv write this instead of `#!PYTHON` when PYTHON is over 127 bytes
# or holds a space; the build path is longer than DIR's, so a script may hold one that
# DIR's own path would not need
_TRAMPOLINE = re.compile(
    rb"#!/bin/sh\n'''exec' (?:\"([^\"\n]*)\"|'([^'\n]*)'|([^\s\"']+)) \"\$0\" \"\$@\"\n' '''\n?"
)
SHEBANG_MAX = 127


def plain_shebang(script: bytes) -> bytes:
    """The script as the installer writes it for a path that needs no trampoline."""
    match = _TRAMPOLINE.match(script)
    if match is None:
        return script
    exe = match.group(1) or match.group(2) or match.group(3)
    if len(b"#!" + exe + b"\n") > SHEBANG_MAX or re.search(rb"[\s\"'\\$`]", exe):
        return script
    return b"#!" + exe + b"\n" + script[match.end() :]


# ------------------------------------------------------------------ --python's temp dir
def temp_run(log: Callable[[str], None]) -> str:
    """A marked temporary directory for the requirements of a restore into --python."""
    import tempfile

    sweep(None, log)
    run = tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{os.getpid()}-")
    write_marker(run, "build")
    return run
