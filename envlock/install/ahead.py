"""A plain `envlock restore LOCK --venv DIR`'s venv and install started before the CLI
loads (issue 23; usecases/warmrestore.py asks here for `python -m envlock` and the
console script): the CLI's parser, the API and the use case take ~40 ms of a Python
start before restore_lock() would start them, and the install is most of the wait.

Only for a plain argv (plain_restore): `restore LOCK --venv DIR` with no option but
--installer, --format and --strict, which change neither the venv nor the plan's key;
anything else (--no-cache, --force, --base-python, --variant, --torch-index, --dry-run,
--python, a global option, an abbreviation) goes to the full CLI as before. start()
builds the venv and, with a guess for the key restore_lock() computes from the same
inputs (install/plancache.py), starts the guessed install, exactly as restore_lock()
starts them (start_venv, start_guessed, the CLI's log); restore_lock() takes them over
(take()) when its own options and key are the ones started for, and goes on as it always
does: its own plan confirms the guess or the venv is built again. What no one took over
(a usage error, an interrupt, other options) is stopped and DIR put back (release(),
before the entry point returns).
"""

from __future__ import annotations

import os
import sys

from envlock.install.quick import plain_restore as plain_restore  # a plain argv's (quick.py)

TYPE_CHECKING = False  # typing costs ~4 ms of this path
if TYPE_CHECKING:
    from envlock.install.early import Started
    from envlock.install.plancache import Guess
    from envlock.install.quick import Begun

# what a start was for: the lock as named, DIR, the installer chosen, the guess's key
Inputs = tuple[str, str, str, str | None]
# what was started ahead, until taken or released
_started: list[tuple[Inputs, Started]] = []


def start(lock: str, venv: str, installer: str) -> tuple[Started, Guess | None, Inputs] | None:
    """The venv's building started as restore_lock() starts it, then the lock read and,
    with a guess for it, the guessed install started; held for take() with the guess and
    what it was started for. None: anything unusual (the full CLI starts again, or says
    why it cannot). With uv and a stored plan for the lock file as it is, install/quick.py
    starts it first, importing nothing."""
    from envlock.install import quick

    began, begun = quick.take(lock, venv, installer)  # the entry point's start_plain()
    if not began:
        begun = quick.start(lock, venv, installer)
    found = _taken_over(begun, lock, venv) if begun is not None else None
    return found if found is not None else _start(lock, venv, installer)


def _start(lock: str, venv: str, installer: str) -> tuple[Started, Guess | None, Inputs] | None:
    from envlock.install.early import choose_installer, start_guessed, start_venv
    from envlock.install.plancache import load
    from envlock.livecache import cache_dir
    from envlock.safeio import UnreadableFile, read_bounded

    try:
        chosen = choose_installer(installer)
        started = start_venv(venv, force=False, base_python=None, installer=chosen, log=log)
    except Exception:
        return None
    try:
        try:
            raw = read_bounded(lock)
        except UnreadableFile:  # the full CLI says why
            hold((lock, venv, chosen, None), started)
            return started, None, (lock, venv, chosen, None)
        entry = _key(raw, lock, chosen)
        guess = load(cache_dir(), entry)
        if guess is not None:
            started = start_guessed(started, guess, installer=chosen)
    except BaseException:
        started.abandon()
        raise
    inputs = (lock, venv, chosen, entry)
    hold(inputs, started)
    return started, guess, inputs


def _key(raw: bytes, lock: str, chosen: str) -> str:
    from envlock.install.plancache import key

    return key(raw, lock, (None, None, chosen, sys.executable))  # _Guessed's settings


def _taken_over(begun: Begun, lock: str, venv: str) -> tuple[Started, Guess | None, Inputs] | None:
    """What install/quick.py started, as start() would have started it, finished while
    uv runs: the activate scripts and the plan's key from the lock's bytes (the stored
    guess stands only when it is the entry's). None: stopped, DIR as it was (start()
    starts again)."""
    from envlock.install.early import Launch, Started
    from envlock.install.swap import Swap
    from envlock.install.venvdir import VenvTarget
    from envlock.install.venvwrite import HEADERS, write_scripts
    from envlock.safeio import UnreadableFile, read_bounded

    b = begun
    t = VenvTarget(given=venv, final=b.final, force=False, run=b.run, build=b.build)
    launch = Launch(None, b.fill, b.text, running=b.child)
    swap = Swap.begun(t, log, b.fd, list(b.made), becomes=HEADERS)  # quick.py left it out
    started = Started(swap=swap, argv=b.venv_argv, proc=None, launch=launch)
    try:
        # not the temporary directory's sweep (Swap.begin's, tempfile's imports: ~4 ms of
        # CPU that uv's run pays on a busy machine): its leftovers are killed `--python`
        # restores' requirements files, which the next restore that is not this one sweeps
        write_scripts(b.scripts)
        try:
            entry: str | None = _key(read_bounded(lock), lock, "uv")
        except UnreadableFile:  # the full CLI says why
            entry = None
    except OSError:
        started.abandon()
        return None
    except BaseException:
        started.abandon()
        raise
    inputs = (lock, venv, "uv", entry)
    hold(inputs, started)
    return started, b.guess if entry == b.key else None, inputs


def hold(inputs: Inputs, started: Started) -> None:
    """`started` (for these inputs) waits for take(), or for release(), in place of what
    was held before (the same run, a step further)."""
    _started[:] = [(inputs, started)]


def log(line: str) -> None:
    """commands/restore.py's log: what the CLI would print for the same line."""
    from envlock.report.safe import plain

    print(plain(line, newlines=False), file=sys.stderr)


def take(
    lock: str | os.PathLike[str], venv: str, installer: str, key: str | None
) -> Started | None:
    """What ahead() started for exactly this restore (the use case's options reduced to
    those a plain argv can hold: the caller checks the rest), or None; anything started
    for other inputs is stopped and its DIR put back."""
    if not _started:
        return None
    wanted = (os.fspath(lock), venv, installer, key)
    (inputs, started) = _started.pop()
    if inputs == wanted:
        return started
    started.abandon()
    return None


def pending() -> bool:
    """Whether something started ahead waits to be taken over."""
    return bool(_started)


def release() -> None:
    """Stop what was started ahead and not taken over, and put its DIR back."""
    while _started:
        _started.pop()[1].abandon()
