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

import _thread
import os
import sys
from collections.abc import Callable

from envlock.errors import RestoreError
from envlock.frozen import Frozen
from envlock.install.quick import REQUIREMENTS as REQUIREMENTS
from envlock.install.quick import own_venv_step, uv_install_step
from envlock.install.spawn import Child, spawn
from envlock.install.swap import Swap
from envlock.install.venvdir import VenvTarget, target

TYPE_CHECKING = False  # typing (~5 ms): no import of a repeat restore before its install
if TYPE_CHECKING:
    import threading

    from envlock.install.plancache import Guess

INSTALLERS = ("auto", "uv", "pip")


def start_step(argv: tuple[str, ...]) -> Child:
    """Start one installer step, its stdout and stderr in one pipe (as a terminal
    interleaves them), with os.posix_spawnp (install/spawn.py: no subprocess module
    before a repeat restore's uv)."""
    env = dict(os.environ)
    env.setdefault("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    try:
        return spawn(argv, env)
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


def venv_step(argv: tuple[str, ...]) -> Child | None:
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


def stop(proc: Child) -> None:
    """A step killed (when still running) and reaped, its pipe closed."""
    if proc.poll() is None:
        try:  # noqa: SIM105 (contextlib: no import of a replayed restore, ~0.5 ms)
            proc.kill()
        except OSError:
            pass
    proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()


class Launch:
    """The guessed install step (`argv`, reading a requirements file of `text`), started
    by a thread once the venv step exits with 0, or at once when the venv was built in
    this process (`venv` None), or `running` already; never after stop()."""

    def __init__(
        self, venv: Child | None, argv: tuple[str, ...], text: str, *, running: Child | None = None
    ) -> None:
        self.argv = argv
        self.text = text
        self.proc: Child | None = running  # started already (install/quick.py)
        self._error: RestoreError | None = None
        self._stopped = False
        self._lock = _thread.allocate_lock()  # threading only where a thread starts
        self._thread: threading.Thread | None = None
        if running is not None:
            return
        if venv is None:
            self._run(None)
            return
        import threading

        self._thread = threading.Thread(
            target=self._run, args=(venv,), name="envlock-install", daemon=True
        )
        self._thread.start()

    def _join(self) -> None:
        if self._thread is not None:
            self._thread.join()

    def _run(self, venv: Child | None) -> None:
        code = venv.wait() if venv is not None else 0
        with self._lock:
            if code != 0 or self._stopped:
                return
            try:
                self.proc = start_step(self.argv)
            except RestoreError as exc:
                self._error = exc

    def take(self) -> Child:
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


class Started(Frozen):
    """DIR prepared (its Swap), the venv step running (`proc`; None: built in this
    process), and the guessed install launched after it (`launch`, when there was a
    guess); `installed`: both ran and the new venv is swapped in, for install() to take
    as it is when this run's plan confirms the guess. Frozen (envlock/frozen.py), not a
    dataclass: a repeat restore makes one before it starts uv."""

    __slots__ = ("argv", "installed", "launch", "proc", "swap")
    swap: Swap
    argv: tuple[str, ...]
    proc: Child | None
    launch: Launch | None
    installed: bool  # both ran and the new venv is swapped in (install/ahead.py)

    def __init__(
        self,
        *,
        swap: Swap,
        argv: tuple[str, ...],
        proc: Child | None,
        launch: Launch | None = None,
        installed: bool = False,
    ) -> None:
        self._set(swap=swap, argv=argv, proc=proc, launch=launch, installed=installed)

    def replace(self, *, launch: Launch | None = None, installed: bool = False) -> Started:
        """This start with the install `launch`ed (when given) or marked `installed`."""
        return Started(
            swap=self.swap, argv=self.argv, proc=self.proc, launch=launch or self.launch,
            installed=installed or self.installed,
        )  # fmt: skip

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
    return started.replace(launch=Launch(started.proc, argv, text))


def choose_installer(wanted: str) -> str:
    if wanted not in INSTALLERS:
        raise RestoreError(f"--installer {wanted!r}: one of {', '.join(INSTALLERS)}")
    import shutil  # tempfile, which swap.sweep() needs, loads it anyway

    if wanted == "auto":
        return "uv" if shutil.which("uv") else "pip"
    if wanted == "uv" and not shutil.which("uv"):
        raise RestoreError("--installer uv: uv is not on PATH")
    return wanted


def create_step(venv: VenvTarget, *, installer: str, base: str) -> tuple[str, ...]:
    """The command that makes the new venv at venv.build, named for DIR in its prompt."""
    new, prompt = venv.build, os.path.basename(venv.final) or "venv"
    here = own_venv_step(base, prompt, new)
    if installer == "uv" and venv_here(here):
        return here  # uv installs into it: envlock's own interpreter builds it, no child
    if installer == "uv":
        return ("uv", "venv", "--quiet", "--python", base, "--prompt", prompt, new)
    return (base, "-m", "venv", "--prompt", prompt, new)


def fill_step(
    venv: VenvTarget, *, installer: str, complete: bool, requirements: str
) -> tuple[str, ...]:
    """The command that installs the requirements into the new venv."""
    new_python = os.path.join(venv.build, "bin", "python")
    if installer == "uv":
        return uv_install_step(new_python, complete, requirements)
    return pip_step(new_python, complete, requirements)


def pip_step(python: str, complete: bool, requirements: str) -> tuple[str, ...]:
    return (
        python,
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--no-input",
        *(("--no-deps",) if complete else ()),
        "-r",
        requirements,
    )


def start_venv(
    venv: str, *, force: bool, base_python: str | None, installer: str, log: Callable[[str], None]
) -> Started:
    """Prepare DIR (install/swap.py) and start building the new venv in it, the first of
    the steps plan_steps() will name, while the caller reads the lock and plans. Nothing
    is told yet (a lock that cannot be restored ends in its one line): install() tells
    each step when it takes it over."""
    base = base_python or sys.executable
    return begin(
        target(venv, force=force), lambda t: create_step(t, installer=installer, base=base), log
    )


def start_guessed(started: Started, guess: Guess, *, installer: str) -> Started:
    """`started` with the install an earlier plan's `guess` names launched the moment
    the venv is built (install/plancache.py); install() keeps it only when this run's
    plan names the same."""
    t = started.swap.target
    path = os.path.join(t.run, REQUIREMENTS)
    fill = fill_step(t, installer=installer, complete=guess.complete, requirements=path)
    return with_install(started, fill, path, guess.requirements)
