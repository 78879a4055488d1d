"""A venv restore's steps started before the lock is read (issue 23): the venv's
building, which needs nothing of the lock (done in this process by the venv module when
uv installs into a venv of envlock's own interpreter: venv_step), and, when an earlier
restore of the same inputs left its plan (install/plancache.py), the install, started the
moment the venv is there (at once, or by a thread waiting for the venv's child).
install/restore.py takes them over once this run's own plan names the same commands and
text, or stops them and starts over; a lock that cannot be restored stops them and puts
DIR back (abandon()).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass

from envlock.errors import RestoreError
from envlock.install.swap import Swap
from envlock.install.venvdir import VenvTarget


def start_step(argv: tuple[str, ...]) -> subprocess.Popen[str]:
    """Start one installer step, its stdout and stderr in one pipe (as a terminal
    interleaves them)."""
    env = dict(os.environ)
    env.setdefault("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    try:
        return subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            text=True,
            errors="replace",
        )
    except OSError as exc:
        raise RestoreError(f"cannot run {argv[0]}: {exc.strerror}") from None


def venv_here(argv: tuple[str, ...]) -> bool:
    """Whether a venv step is `python -m venv --without-pip` of the interpreter running
    envlock: then this process builds it (venv_step) instead of a child, and the install
    can start the moment it is there, without `uv venv`'s start (~30 ms)."""
    if argv[1:4] != ("-m", "venv", "--without-pip") or len(argv) != 7:
        return False
    try:
        return os.path.samefile(os.path.realpath(argv[0]), os.path.realpath(sys.executable))
    except OSError:
        return False


def venv_step(argv: tuple[str, ...]) -> subprocess.Popen[str] | None:
    """Start a venv step; None when it was `python -m venv --without-pip --prompt P DIR`
    of envlock's own interpreter, done here and now: written by install/venvwrite.py (the
    venv module's tree, without its imports) or by the module itself (the same venv: the
    base interpreter linked, activate scripts, pyvenv.cfg naming the command)."""
    if not venv_here(argv):
        return start_step(argv)
    from envlock.install import venvwrite

    try:
        try:
            if venvwrite.write(argv[6], argv[5]):  # without the venv module's imports
                return None
        except (OSError, ValueError):
            pass  # the module, run over what was written, finishes it or says why
        import venv

        venv.EnvBuilder(with_pip=False, symlinks=True, prompt=argv[5]).create(argv[6])
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        raise RestoreError(f"venv failed, nothing changed: {exc.strerror or exc}{where}") from None
    return None


def stop(proc: subprocess.Popen[str]) -> None:
    """A step killed (when still running) and reaped, its pipe closed."""
    if proc.poll() is None:
        with contextlib.suppress(OSError):
            proc.kill()
    proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()


class Launch:
    """The guessed install step (`argv`, reading a requirements file of `text`), started
    by a thread once the venv step exits with 0, or at once when the venv was built in
    this process (`venv` None); never after stop()."""

    def __init__(
        self, venv: subprocess.Popen[str] | None, argv: tuple[str, ...], text: str
    ) -> None:
        self.argv = argv
        self.text = text
        self.proc: subprocess.Popen[str] | None = None
        self._error: RestoreError | None = None
        self._stopped = False
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        if venv is None:
            self._run(None)
            return
        self._thread = threading.Thread(
            target=self._run, args=(venv,), name="envlock-install", daemon=True
        )
        self._thread.start()

    def _join(self) -> None:
        if self._thread is not None:
            self._thread.join()

    def _run(self, venv: subprocess.Popen[str] | None) -> None:
        code = venv.wait() if venv is not None else 0
        with self._lock:
            if code != 0 or self._stopped:
                return
            try:
                self.proc = start_step(self.argv)
            except RestoreError as exc:
                self._error = exc

    def take(self) -> subprocess.Popen[str]:
        """The started step (after the venv step ended well); its failure to start."""
        self._join()
        if self._error is not None:
            raise self._error
        if self.proc is None:  # cannot happen after a venv step that passed
            raise RestoreError("the install did not start")
        return self.proc

    def stop(self) -> None:
        """No install starts from now on; one that did is stopped (the venv step must be
        stopped first: the thread waits on it)."""
        with self._lock:
            self._stopped = True
        self._join()
        if self.proc is not None:
            stop(self.proc)


@dataclass(frozen=True, kw_only=True, slots=True)
class Started:
    """DIR prepared (its Swap), the venv step running (`proc`; None: built in this
    process), and the guessed install launched after it (`launch`, when there was a
    guess); `installed`: both ran and the new venv is swapped in, for install() to take
    as it is when this run's plan confirms the guess."""

    swap: Swap
    argv: tuple[str, ...]
    proc: subprocess.Popen[str] | None
    launch: Launch | None = None
    installed: bool = False  # both ran and the new venv is swapped in (install/ahead.py)

    def fits(self, steps: list[tuple[str, ...]], text: str) -> bool:
        """Whether what was started is what this run's plan runs: the same commands (the
        requirements file's real path in them) and requirements text."""
        if not steps or steps[0] != self.argv:
            return False
        launch = self.launch
        return launch is None or (
            len(steps) == 2 and steps[1] == launch.argv and text == launch.text
        )

    def stop(self) -> None:
        """Every started step stopped and reaped."""
        if self.proc is not None:
            stop(self.proc)
        if self.launch is not None:
            self.launch.stop()

    def abandon(self) -> None:
        """Stop what was started and put DIR back as it was (a no-op for the swap once it
        was committed or rolled back)."""
        self.stop()
        self.swap.roll_back()


def begin(
    t: VenvTarget, create: Callable[[VenvTarget], tuple[str, ...]], log: Callable[[str], None]
) -> Started:
    """Prepare DIR and start the venv step, `create(target)`, in it (the target DIR's
    Swap worked in: a fixed working directory unless it was taken)."""
    swap = Swap.begin(t, log)
    try:
        venv = create(swap.target)
        proc = venv_step(venv)
    except BaseException:
        swap.roll_back()
        raise
    return Started(swap=swap, argv=venv, proc=proc)


def with_install(started: Started, argv: tuple[str, ...], path: str, text: str) -> Started:
    """`started` with the guessed install launched after its venv step: the requirements
    file written at `path`, `argv` started once the venv is built. A file that cannot be
    written leaves `started` as it was (install() writes it again, or says why)."""
    try:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError:
        return started
    return dataclasses.replace(started, launch=Launch(started.proc, argv, text))
