"""A plain repeat `envlock restore LOCK --venv DIR`'s install started before anything is
imported that a Python start has not loaded (issue 23's restore row: 1.2x of `uv venv &&
uv pip sync` leaves envlock ~25-30 ms in all, about one Python start).

install/ahead.py asks here first. With the plan an earlier restore stored for the lock
file as it is (install/quickplan.py, found by its stat) and uv, DIR is prepared as
install/swap.py's Swap.begin() prepares it (made, locked, RUN made and marked), the
venv's minimum that `uv pip sync --python` needs is written (install/venvwrite.py's
write_core: pyvenv.cfg, the interpreter's links, site-packages), then the requirements,
and uv is started (install/spawn.py). The rest is install/ahead.py's while uv runs: the
activate scripts and the plan's real key from the lock's bytes, which must be the
entry's for the guess to stand (else the full CLI plans and keeps the install only when
its plan is the same). Not the temporary directory's sweep, which Swap.begin() does:
killed `--python` restores' requirements files, swept by the next other restore.

Only where nothing is unusual: uv on PATH, DIR absent, empty, or a venv of nothing but
VENV_DIRS, pyvenv.cfg and uv's empty .lock (no restore's working directory in it,
nothing foreign), no older envlock's leftovers beside it, a venv tree venvwrite knows.
Anything else is None with nothing changed, and the usual start runs (and says what is
wrong). This module also holds the working directory's names and writes its marker
(install/marker.py reads it), without json.
"""

from __future__ import annotations

import os
import stat
import sys

from envlock.frozen import Frozen
from envlock.install.quickplan import read_small

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from envlock.install.plancache import Guess
    from envlock.install.spawn import Child
    from envlock.install.venvwrite import Scripts

RUN_PREFIX = ".envlock-restore-"
# A run's usual working directory: one name for every restore of DIR, so the new venv's
# interpreter has one path and uv's interpreter cache (keyed by that path) knows it; a
# path of its own each run costs `uv pip sync` a Python start to query it (~50 ms). Its
# marker names the pid. A run that finds it taken works in RUN_PREFIX + its pid.
FIXED_RUN = RUN_PREFIX + "build"
MARKER = "envlock-restore.json"
# What `python -m venv` and `uv venv` (and pip's data files: share/) make in a venv.
# lib* is spelled out: lib32/lib64 are the only siblings venv makes, and a user's
# `libs/` or `library/` beside a venv must stay foreign.
VENV_DIRS = frozenset(
    {"bin", "Scripts", "include", "Include", "lib", "Lib", "lib32", "lib64", "share"}
)
# The requirements file's name in planned steps; install() puts the real path there.
REQUIREMENTS = "requirements.envlock.txt"


class Begun(Frozen):
    """What start() did: DIR (`final`, as given) made where it was not (`made`) and
    locked (`fd`), RUN and its venv (`build`: its core, `scripts` still to write), the
    install `fill` of `text` running (`child`), for the `guess` stored under `key`."""

    __slots__ = ("build", "child", "fd", "fill", "final", "guess", "key", "made", "run",
                 "scripts", "text", "venv_argv")  # fmt: skip
    final: str
    made: tuple[str, ...]
    fd: int | None
    run: str
    build: str
    scripts: Scripts
    venv_argv: tuple[str, ...]  # install/early.create_step's for it: built here
    fill: tuple[str, ...]
    text: str
    child: Child
    key: str
    guess: Guess

    def __init__(
        self,
        *,
        final: str,
        made: tuple[str, ...],
        fd: int | None,
        where: tuple[str, str],
        scripts: Scripts,
        steps: tuple[tuple[str, ...], tuple[str, ...]],
        text: str,
        child: Child,
        found: tuple[str, Guess],
    ) -> None:
        (run, build), (venv_argv, fill), (key, guess) = where, steps, found
        self._set(final=final, made=made, fd=fd, run=run, build=build, scripts=scripts,
                  venv_argv=venv_argv, fill=fill, text=text, child=child, key=key,
                  guess=guess)  # fmt: skip


# the options of a plain restore (whether each takes a value): none changes the start
_OPTIONS = {"--venv": True, "--installer": True, "--format": True, "--strict": False}
INSTALLERS = ("auto", "uv", "pip")  # install/restore.INSTALLERS (a test holds them equal)


def plain_restore(argv: Sequence[str]) -> tuple[str, str, str] | None:
    """(LOCK, DIR, --installer) of a plain `restore LOCK --venv DIR`, or None."""
    if not argv or argv[0] != "restore":
        return None
    found: dict[str, str] = {}
    positional: list[str] = []
    rest = iter(argv[1:])
    for arg in rest:
        if arg not in _OPTIONS:
            if arg.startswith("-") or positional:
                return None
            positional.append(arg)
        elif arg in found:
            return None  # argparse's last-one-wins is the full CLI's to apply
        elif _OPTIONS[arg]:
            value = next(rest, "-")
            if value.startswith("-"):
                return None
            found[arg] = value
        else:
            found[arg] = ""
    installer = found.get("--installer", "auto")
    if len(positional) != 1 or "--venv" not in found or installer not in INSTALLERS:
        return None
    if "--format" in found:  # argparse's choices: a usage error starts nothing
        from envlock.report import FORMATS

        if found["--format"] not in FORMATS:
            return None
    return positional[0], found["--venv"], installer


# what start_plain() began (or found nothing to begin: None) for a plain argv's
# (LOCK, DIR, --installer), until install/ahead.py takes it
_BEGUN: list[tuple[tuple[str, str, str], Begun | None]] = []


def start_plain(argv: Sequence[str]) -> None:
    """start() for a plain `restore LOCK --venv DIR` argv, called by the entry points
    first of all (before usecases/warmrestore.py and install/ahead.py load: ~0.6 ms
    sooner, uv's start), held for take()."""
    plain = plain_restore(argv)
    if plain is not None:
        _BEGUN[:] = [(plain, start(*plain))]


def take(lock: str, venv: str, installer: str) -> tuple[bool, Begun | None]:
    """(True, what start_plain() began for exactly these inputs, None for nothing), or
    (False, None) where it did not run for them (what it began for others is stopped
    and undone)."""
    if not _BEGUN:
        return False, None
    plain, begun = _BEGUN.pop()
    if plain == (lock, venv, installer):
        return True, begun
    if begun is not None:
        begun.child.kill()
        begun.child.wait()
        if begun.child.stdout is not None:
            begun.child.stdout.close()
        _undone(list(begun.made), begun.fd, begun.run)
    return False, None


def start(lock: str, venv: str, installer: str) -> Begun | None:
    """The guessed install of a plain `restore LOCK --venv DIR --installer INSTALLER`
    started in DIR's working directory, or None with nothing changed."""
    if installer not in ("auto", "uv") or which("uv") is None:
        return None
    from envlock.install.quickplan import cache_dir, load

    found = load(cache_dir(), lock)
    final = _target(venv)
    if found is None or final is None or not _venv_only(final) or _old_style(final):
        return None
    from envlock.install import venvwrite

    prompt = os.path.basename(final) or "venv"
    run = os.path.join(final, FIXED_RUN)
    build = os.path.join(run, "venv")
    moved = build[
        len(final.rstrip("/")) :
    ]  # VenvTarget.suffix, dropped now: relocate() rewrites none of ours
    scripts = venvwrite.prepare(build, prompt, moved=moved)
    if scripts is None:
        return None
    made: list[str] = []
    fd: int | None = None
    begun = False
    try:
        fd = _locked(final, made)
        if fd is None or not _venv_only(final):  # another restore's, or one left its RUN
            _undone(made, fd, None)
            return None
        os.mkdir(run)
        begun = True
        write_marker(run, "build")
        # include/pythonX.Y, empty, is RUN itself once the verdict is in (swap.py)
        venvwrite.write_core(build, prompt, moved=moved, headers=False)
        return _install(final, tuple(made), fd, (run, build, prompt), scripts, found)
    except Exception:
        _undone(made, fd, run if begun else None)
        return None
    except BaseException:
        _undone(made, fd, run if begun else None)
        raise


def _install(
    final: str,
    made: tuple[str, ...],
    fd: int | None,
    where: tuple[str, str, str],
    scripts: Scripts,
    found: tuple[str, Guess],
) -> Begun:
    """The requirements written and the install started (install/early.fill_step's)."""
    from envlock.install.spawn import spawn

    run, build, prompt = where
    guess = found[1]
    path = os.path.join(run, REQUIREMENTS)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(guess.requirements)
    fill = uv_install_step(os.path.join(build, "bin", "python"), guess.complete, path)
    env = dict(os.environ)
    env.setdefault("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    child = spawn(fill, env)
    venv_argv = own_venv_step(sys.executable, prompt, build)
    return Begun(
        final=final, made=made, fd=fd, where=(run, build), scripts=scripts,
        steps=(venv_argv, fill), text=guess.requirements, child=child, found=found,
    )  # fmt: skip


def own_venv_step(base: str, prompt: str, new: str) -> tuple[str, ...]:
    """The venv step that envlock's own interpreter does in this process (install/early.py's
    venv_here): written by install/venvwrite.py."""
    return (base, "-m", "venv", "--without-pip", "--prompt", prompt, new)


def uv_install_step(python: str, complete: bool, requirements: str) -> tuple[str, ...]:
    """uv's install of the requirements into the venv of `python`: `pip sync` where the
    plan pins the whole closure (dependencies skipped), else `pip install -r`."""
    sync = "sync" if complete else "install"
    deps = () if complete else ("-r",)
    return ("uv", "pip", sync, "--python", python, *deps, requirements)


def _undone(made: list[str], fd: int | None, run: str | None) -> None:
    """What start() made taken away again (RUN, then DIR and its parents it made)."""
    try:
        if run is not None and os.path.isdir(run):
            remove_run(run)
        for directory in reversed(made):
            os.rmdir(directory)
    except OSError:
        pass  # the usual start's sweep names or removes what is left
    finally:
        if fd is not None:
            os.close(fd)  # closing drops the flock


def remove_run(run: str, into: str | None = None) -> None:
    """Remove a restore's working directory, its marker last (so a run killed while
    removing is still recognised as ours); emptied, it is renamed to `into` where given
    (an empty directory the new venv lacks: install/swap.py's commit), else removed."""
    for name in os.listdir(run):
        if name == MARKER:
            continue
        path = os.path.join(run, name)
        if os.path.isdir(path) and not os.path.islink(path):
            _remove_tree(path)
        else:
            os.unlink(path)
    try:  # noqa: SIM105 (contextlib: no import before uv)
        os.unlink(os.path.join(run, MARKER))
    except FileNotFoundError:
        pass
    if into is not None:
        try:
            os.rename(run, into)  # an empty directory: a rename replaces none but an empty one
            return
        except OSError:
            pass  # not there to take (its parent gone, a file of that name): removed
    os.rmdir(run)


def _remove_tree(path: str) -> None:
    """A directory and what it holds (RUN/venv once swapped in: empty; RUN/old: the
    venv a repeat restore replaced), deepest first, links removed and never followed:
    shutil.rmtree's result without its imports (~2 ms after uv: fnmatch, zlib, bz2,
    lzma). An entry that cannot be removed raises its OSError, as rmtree does."""
    with os.scandir(path) as listing:
        entries = list(listing)
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            _remove_tree(entry.path)
        else:
            os.unlink(entry.path)
    os.rmdir(path)


def which(name: str) -> str | None:
    """shutil.which(name) on POSIX (the program found on PATH as posix_spawnp finds it),
    without shutil's imports."""
    path = os.environ.get("PATH", None)
    if path is None:
        try:
            path = os.confstr("CS_PATH")
        except (AttributeError, ValueError):
            path = os.defpath
    if not path:
        return None
    seen = set()
    for directory in path.split(os.pathsep):
        if directory in seen:
            continue
        seen.add(directory)
        found = os.path.join(directory, name)
        if os.path.exists(found) and os.access(found, os.X_OK) and not os.path.isdir(found):
            return found
    return None


def _target(venv: str) -> str | None:
    """DIR made absolute, `..` and links resolved (install/venvdir.target's), or None
    where target() refuses it."""
    if not venv or "\0" in venv:
        return None
    final = os.path.realpath(venv)
    if os.path.islink(final) or (os.path.lexists(final) and not os.path.isdir(final)):
        return None
    return final


def _venv_only(final: str) -> bool:
    """Whether DIR is absent, empty, or a venv of nothing but VENV_DIRS and pyvenv.cfg:
    nothing for the sweep (install/swap.py) or venvdir.entries() to look into."""
    try:
        names = os.listdir(final)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    if names and _regular(os.path.join(final, "pyvenv.cfg")) is None:
        return False
    for name in names:
        path = os.path.join(final, name)
        if name in VENV_DIRS:
            if not (os.path.isdir(path) or os.path.islink(path)):
                return False
        elif name == ".lock":  # uv's, empty (venvdir.venv_made)
            if _regular(path) != 0:
                return False
        elif name != "pyvenv.cfg":
            return False
    return True


def _old_style(final: str) -> bool:
    """Whether something beside DIR may be envlock 0.1's leftover (swap.py names it)."""
    parent, base = os.path.split(final)
    try:
        names = os.listdir(parent)
    except OSError:
        return False
    new, old = f".{base}.envlock-new-", f"{base}.envlock-old-"
    return any(n.startswith(new) or n.startswith(old) for n in names)


def _regular(path: str) -> int | None:
    """A regular file's size, else None."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return st.st_size if stat.S_ISREG(st.st_mode) else None


def _locked(final: str, made: list[str]) -> int | None:
    """DIR made (what was made added to `made`), opened and flocked as Swap.begin() does;
    None (closed) when another restore holds it."""
    make_dirs(final, made)
    fd = os.open(final, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        import fcntl  # a small extension module: all Swap.begin() needs of it

        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    except (ImportError, OSError):
        pass  # no flock here (some network filesystems): the markers still guard
    return fd


def make_dirs(path: str, made: list[str]) -> None:
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


# ------------------------------------------------------------------ RUN's marker
def write_marker(run: str, phase: str, moved_in: Iterable[str] = ()) -> None:
    """RUN's marker (install/marker.py reads it: which process, when it started, how far
    it got), atomically (a half-written marker would make the run look foreign), and not
    fsynced: two of a restore's three markers come after its install, where each fsync
    was the user's wait (2-11 ms). After a power loss a marker may be torn (read as
    none: its directory is named, never removed) or be the one before (a build marker
    beside a swap's held old venv is not trusted: swap.py's sweep)."""
    pid = os.getpid()
    if pid not in _OWN:  # a process's start and its boot never change: read once
        _OWN.clear()  # a forked child's parent
        _OWN[pid] = (started_at(pid), boot_id())
    text = marker_text(pid, *_OWN[pid], phase, tuple(moved_in))
    tmp = os.path.join(run, MARKER + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, os.path.join(run, MARKER))


# this process's start time and boot id by its pid, for its markers (two reads of /proc
# a marker, three markers a restore)
_OWN: dict[int, tuple[str | None, str | None]] = {}


def marker_text(
    pid: int, started: str | None, boot: str | None, phase: str, moved_in: tuple[str, ...]
) -> str:
    """A marker's JSON, as json.dumps writes the same object (without json)."""
    names = ", ".join(map(_json_string, moved_in))
    return (
        f'{{"envlock-restore": 1, "pid": {int(pid)}, "started": {_json_string(started)}, '
        f'"boot": {_json_string(boot)}, "phase": {_json_string(phase)}, '
        f'"moved-in": [{names}]}}'
    )


def _json_string(value: str | None) -> str:
    if value is None:
        return "null"
    if value.isascii() and value.isprintable() and '"' not in value and "\\" not in value:
        return f'"{value}"'  # what json.dumps writes for it
    import json

    return json.dumps(value)


def started_at(pid: int) -> str | None:
    """The process's start time (/proc/PID/stat), against pid reuse."""
    stat_line = proc_stat(pid)
    return stat_line[19] if stat_line and len(stat_line) > 19 else None


def proc_stat(pid: int) -> list[str] | None:
    """/proc/PID/stat's fields after the command name (state first), or None."""
    data = read_small(f"/proc/{pid}/stat", 4096)
    if data is None:
        return None
    return data.decode("ascii", "replace").rpartition(")")[2].split()


def boot_id() -> str | None:
    """/proc/sys/kernel/random/boot_id: a start time is per boot."""
    data = read_small("/proc/sys/kernel/random/boot_id", 256)
    return data.decode("ascii", "replace").strip() if data else None
