"""Installing a lock: into a new venv that replaces the old one's entries only once it
is built (install/swap.py: the old one is held until the caller's verify passes), or into
an existing interpreter after a dry run of the same install.

uv when it is on PATH, else pip. The pins are `envlock export --format requirements`
of the same lock (lock.export.plan_install), so what restore installs is what export
writes. Verifying the result is the API's (api.restore_lock), after this returns.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable

from envlock.errors import RestoreError
from envlock.frozen import Frozen
from envlock.install.early import (  # a repeat restore's start: no dataclasses (early.py)
    INSTALLERS as INSTALLERS,
)
from envlock.install.early import (
    REQUIREMENTS as REQUIREMENTS,
)
from envlock.install.early import (
    Started,
    start_step,
    stop,
    venv_step,
)
from envlock.install.early import (
    choose_installer as choose_installer,
)
from envlock.install.early import create_step as _create
from envlock.install.early import fill_step as _fill
from envlock.install.early import pip_step as _pip
from envlock.install.early import (
    start_guessed as start_guessed,
)
from envlock.install.early import (
    start_venv as start_venv,
)
from envlock.install.swap import Swap, os_failure, remove_run, temp_run
from envlock.install.venvdir import VenvTarget, entries, target

TYPE_CHECKING = False  # typing (~5 ms): no import of a repeat restore before its install
if TYPE_CHECKING:  # the lock's models load while the venv is being built (start_venv)
    from envlock.install.spawn import Child
    from envlock.lock.export import InstallPlan
    from envlock.report.progress import Progress
# What only runs once the install is under way (quoting, streaming its output, progress)
# is imported there: install/ahead.py starts the install with this module's help, and
# every import before that start is part of the wait (issue 23).

INSTALL_TIMEOUT_S = 3600.0


class Step(Frozen):
    """One command of an installation: `what` it does (venv, check, install)."""

    __slots__ = ("argv", "what")
    argv: tuple[str, ...]
    what: str

    def __init__(self, *, argv: tuple[str, ...], what: str) -> None:
        self._set(argv=argv, what=what)

    def shell(self) -> str:
        import shlex

        return shlex.join(self.argv)


class Installation(Frozen):
    """The commands of a restore (Frozen, envlock/frozen.py, not a dataclass: a repeat
    restore runs them while uv installs, where dataclasses' imports take uv's CPU)."""

    __slots__ = ("installer", "python", "steps", "venv")
    installer: str  # uv or pip
    python: str  # the interpreter the result runs under
    steps: tuple[Step, ...]
    venv: VenvTarget | None  # --venv: where it is built and swapped in

    def __init__(
        self,
        *,
        installer: str,
        python: str,
        steps: tuple[Step, ...],
        venv: VenvTarget | None = None,
    ) -> None:
        self._set(installer=installer, python=python, steps=steps, venv=venv)


def python_minor(python: str) -> str:
    """major.minor of an interpreter (run it: the file may be a wrapper or a symlink)."""
    if not (os.path.isfile(python) and os.access(python, os.X_OK)):
        raise RestoreError(f"{python}: not an executable file")
    if os.path.realpath(python) == os.path.realpath(sys.executable):
        return (
            f"{sys.version_info[0]}.{sys.version_info[1]}"  # the binary running envlock: no child
        )
    import subprocess  # only for another interpreter (a repeat restore's runs none)

    try:
        out = subprocess.run(
            [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        from envlock.errors import last_line

        raise RestoreError(f"cannot run {python}: {last_line(str(exc))}") from None
    return out


def plan_steps(
    plan: InstallPlan,
    *,
    requirements: str,
    venv: str | None,
    python: str | None,
    base_python: str | None,
    installer: str,
    locked_python: str | None,
    force: bool = False,
    begun: VenvTarget | None = None,
) -> Installation:
    """The exact commands; nothing runs here except asking interpreters their version
    (and reading --venv DIR: what it holds that is not a venv's own is refused). `begun`:
    the target start_venv() prepared for `venv`, where its steps run."""
    if (venv is None) == (python is None):
        raise RestoreError("give exactly one of --venv DIR and --python PY")
    if venv is not None:
        return _venv_steps(
            plan,
            begun or target(venv, force=force),
            requirements=requirements,
            base=base_python or sys.executable,
            installer=installer,
            locked_python=locked_python,
        )
    assert python is not None
    have = python_minor(python)
    if locked_python and have != locked_python:
        raise RestoreError(f"the lock is for Python {locked_python}, {python} is {have}")
    if installer == "uv":
        install: tuple[str, ...] = ("uv", "pip", "install", "--python", python, "-r", requirements)
        if plan.complete:
            install = (*install[:5], "--no-deps", *install[5:])
        steps = [
            Step(argv=(*install[:3], "--dry-run", *install[3:]), what="check"),
            Step(argv=install, what="install"),
        ]
    else:
        install = _pip(python, plan.complete, requirements)
        steps = [
            Step(argv=(*install, "--dry-run"), what="check"),
            Step(argv=install, what="install"),
        ]
    return Installation(installer=installer, python=python, steps=tuple(steps))


def _venv_steps(
    plan: InstallPlan,
    venv: VenvTarget,
    *,
    requirements: str,
    base: str,
    installer: str,
    locked_python: str | None,
) -> Installation:
    """A new venv at venv.build (inside DIR), named for DIR in the shell's prompt."""
    have = python_minor(base)
    if locked_python and have != locked_python:
        raise RestoreError(
            f"the lock is for Python {locked_python}, {base} is {have}: "
            "pass --base-python with a Python " + locked_python
        )
    create = _create(venv, installer=installer, base=base)
    fill = _fill(venv, installer=installer, complete=plan.complete, requirements=requirements)
    return Installation(
        installer=installer,
        python=os.path.join(venv.final, "bin", "python"),
        steps=(Step(argv=create, what="venv"), Step(argv=fill, what="install")),
        venv=venv,
    )


def dry_run_lines(inst: Installation) -> list[str]:
    lines = [step.shell() for step in inst.steps]
    if inst.venv is not None:
        t = inst.venv
        ours = entries(t.final)[0]
        lines += [
            f"# then: drop {t.suffix} from the paths in {t.build}/bin/* and pyvenv.cfg",
            f"# move {t.final}'s own venv entries ({', '.join(ours) or 'none'}) into "
            f"{t.run}/old, and {t.build}/* into {t.final}",
            f"# verify; passed: rm -rf {_quote(t.run)}; failed: the old entries go back",
        ]
    return lines


def install(
    inst: Installation,
    plan: InstallPlan,
    *,
    header: str,
    log: Callable[[str], None] = lambda line: None,
    progress: Progress | None = None,
    started: Started | None = None,
    meanwhile: Callable[[], None] = lambda: None,
) -> Swap | None:
    """Run the steps (the venv's first one already `started` by start_venv(), when given;
    `meanwhile()` runs while the installer does). Into a venv: build it inside DIR and
    swap it in; the caller verifies, then commits or rolls back the returned Swap. A
    failure leaves the target as it was (RestoreError, exit 3)."""
    from envlock.lock.export import requirements_text
    from envlock.report.progress import SILENT

    progress = progress or SILENT
    text = requirements_text(plan, header=header)
    steps = _Steps(inst=inst, pins=len(plan.pins), text=text, log=log, progress=progress)
    if inst.venv is None:
        try:
            workdir = temp_run(log)
        except OSError as exc:
            raise RestoreError(f"cannot write the requirements file: {exc.strerror}") from None
        try:
            steps.run(os.path.join(workdir, REQUIREMENTS))
        except OSError as exc:
            raise RestoreError(f"cannot write the requirements file: {exc.strerror}") from None
        finally:
            try:  # noqa: SIM105 (contextlib: no import of a replayed restore, ~0.5 ms)
                remove_run(workdir)
            except OSError:
                pass
        return None
    where = os.path.join(inst.venv.run, REQUIREMENTS)
    argvs = [tuple(where if a == REQUIREMENTS else a for a in s.argv) for s in inst.steps]
    if started is not None and not started.fits(argvs, text):
        started.abandon()  # a guess this plan does not confirm: build again from scratch
        started = None
    if started is not None and started.installed:
        return started.swap  # install/ahead.py ran it and swapped it in: nothing to run
    swap = Swap.begin(inst.venv, log) if started is None else started.swap
    steps = steps.of(_worked_in(inst, swap.target))
    _run_and_swap(steps, swap, started, meanwhile)
    return swap


def install_guessed(
    started: Started,
    pins: int,
    *,
    installer: str,
    log: Callable[[str], None],
    progress: Progress,
    meanwhile: Callable[[], None] = lambda: None,
) -> Started:
    """`started`'s venv step and guessed install (start_guessed) run to their end and
    swapped in as install() runs them, told alike, without the lock's plan: for
    install/ahead.py, whose guess stands for the plan (`pins`: how many it pins).
    Returned marked installed: install() then runs nothing again."""
    launch = started.launch
    assert launch is not None
    t = started.swap.target
    steps = (Step(argv=started.argv, what="venv"), Step(argv=launch.argv, what="install"))
    inst = Installation(
        installer=installer, python=os.path.join(t.final, "bin", "python"), steps=steps, venv=t
    )
    run = _Steps(inst=inst, pins=pins, text=launch.text, log=log, progress=progress)
    _run_and_swap(run, started.swap, started, meanwhile)
    return started.replace(installed=True)


def _run_and_swap(
    steps: _Steps, swap: Swap, started: Started | None, meanwhile: Callable[[], None]
) -> None:
    """The steps run in `swap`'s working directory, then the new venv swapped in; a
    failure stops what was started and puts DIR back (RestoreError, exit 3)."""
    t = swap.target
    try:
        steps.run(os.path.join(t.run, REQUIREMENTS), started, meanwhile)
        steps.progress.step(f"swapping the new venv into {t.final}")
        swap.swap_in()
    except OSError as exc:
        if started is not None:
            started.stop()
        swap.roll_back()
        raise os_failure(t, exc) from None
    except BaseException:
        if started is not None:
            started.stop()
        swap.roll_back()
        raise


def _worked_in(inst: Installation, t: VenvTarget) -> Installation:
    """`inst` with its steps' paths in the working directory its Swap began (RUN_PREFIX +
    pid where the fixed one was taken)."""
    was = inst.venv
    if was is None or was == t:
        return inst

    def moved(arg: str) -> str:
        inside = arg == was.run or arg.startswith(was.run + os.sep)
        return t.run + arg[len(was.run) :] if inside else arg

    steps = tuple(Step(argv=tuple(map(moved, s.argv)), what=s.what) for s in inst.steps)
    return Installation(installer=inst.installer, python=inst.python, steps=steps, venv=t)


class _Steps(Frozen):
    __slots__ = ("inst", "log", "pins", "progress", "text")
    inst: Installation
    pins: int  # how many packages the requirements pin (the install's count)
    text: str  # the requirements file's text
    log: Callable[[str], None]
    progress: Progress

    def __init__(
        self,
        *,
        inst: Installation,
        pins: int,
        text: str,
        log: Callable[[str], None],
        progress: Progress,
    ) -> None:
        self._set(inst=inst, pins=pins, text=text, log=log, progress=progress)

    def of(self, inst: Installation) -> _Steps:
        """The same steps for `inst` (their paths where the Swap began)."""
        return _Steps(inst=inst, pins=self.pins, text=self.text, log=self.log,
                      progress=self.progress)  # fmt: skip

    def run(
        self,
        requirements: str,
        started: Started | None = None,
        meanwhile: Callable[[], None] = lambda: None,
    ) -> None:
        """Each step in turn; the venv's taken over from `started` when given, its output
        read only now (the pipe holds it); `meanwhile()` once the last step started."""
        launch = started.launch if started is not None else None
        if launch is None:  # else written when the guessed install started (the same text)
            with open(requirements, "w", encoding="utf-8") as fh:
                fh.write(self.text)
        for i, step in enumerate(self.inst.steps):
            argv = tuple(requirements if a == REQUIREMENTS else a for a in step.argv)
            counted = self.pins if step.what != "venv" else 0
            phase = _phase_of(argv, step.what, counted, self.inst.installer)
            self.log(f"$ {' '.join(map(_quote, argv))}")
            self.progress.step(phase)
            if started is not None and step.what == "venv":
                proc = started.proc
            elif step.what == "venv":
                proc = venv_step(argv)
            else:
                proc = launch.take() if launch is not None else start_step(argv)
            if proc is None:
                continue  # the venv, built in this process
            if i == len(self.inst.steps) - 1:
                _meanwhile(proc, meanwhile)
            who = self.inst.installer if step.what != "venv" else "venv"
            _finish(proc, who, self.progress, (phase, counted))


def _meanwhile(proc: Child, work: Callable[[], None]) -> None:
    """`work()` while `proc` runs (its output waits in the pipe); the child is stopped
    when work raises."""
    try:
        work()
    except BaseException:
        stop(proc)
        raise


def _quote(arg: str) -> str:
    """shlex.quote(arg) without shlex (its import and pattern are ~0.3 ms of a repeat
    restore's CPU while uv runs): a word of safe characters as it is, else in single
    quotes, each quote in it closed, escaped and reopened."""
    if not arg:
        return "''"
    if all(c in _SHELL_SAFE for c in arg):
        return arg
    return "'" + arg.replace("'", "'\"'\"'") + "'"


# what shlex.quote leaves unquoted: re's [\w@%+=:,./-] under re.ASCII
_SHELL_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@%+=:,./-")


def _phase_of(argv: tuple[str, ...], what: str, packages: int, installer: str) -> str:
    """How progress names a step."""
    tool = " ".join(argv[:2]) if argv[0] == "uv" else "python -m venv"
    if what == "venv":
        return f"building the venv ({tool})"
    doing = "checking" if what == "check" else "installing"
    return f"{doing} {packages} package{'s' if packages != 1 else ''} with {installer}"


# What a child may print that is not text for a log: terminal escape sequences (colour,
# cursor moves), and the password of a URL's credentials (pip masks it; not every tool);
# compiled on first use: a line with neither needs no pattern (each ~0.1 ms while uv runs).
_ESCAPES = r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-_]"
_PASSWORD = r"(://[^/\s:@]+:)[^/\s@]+@"
# What starts a line that names one package being collected (pip) or installed (uv), then
# no whitespace: ^(?:Collecting |Processing |Requirement already satisfied: | ?\+ )\S
_PACKAGE = ("Collecting ", "Processing ", "Requirement already satisfied: ", "+ ", " + ")


def _pattern(source: str) -> re.Pattern[str]:
    return re.compile(source)  # re's own cache keeps it after the first line


def _clean(raw: str) -> str:
    """One line of a child's output as a log shows it: what a terminal would have left
    after carriage returns (a progress bar's last state), no escapes, no password."""
    line = raw.rstrip("\n").split("\r")[-1]
    if "\x1b" in line:
        line = _pattern(_ESCAPES).sub("", line)
    if "://" in line:  # after the escapes: removing one may join a URL's parts
        line = _pattern(_PASSWORD).sub(r"\1****@", line)
    return line


def _names_package(line: str) -> bool:
    """Whether `line` names one package being collected or installed (_PACKAGE)."""
    for start in _PACKAGE:
        if line.startswith(start):
            rest = line[len(start) : len(start) + 1]
            return bool(rest) and not rest.isspace()
    return False


def _finish(proc: Child, who: str, progress: Progress, counted: tuple[str, int]) -> None:
    """A started step's output streamed to `progress` line by line until it ends; a
    failure names the installer's error and shows its last lines."""
    from collections import deque

    from envlock.childio import stream_lines
    from envlock.report.progress import TAIL

    tail: deque[str] = deque(maxlen=TAIL)
    phase, packages = counted
    seen = 0

    def on_line(raw: str) -> None:
        nonlocal seen
        line = _clean(raw)
        if not line.strip():
            return
        tail.append(line)
        progress.output(line)
        if packages and _names_package(line) and seen < packages:
            seen += 1
            progress.count(phase, seen, packages)

    code = stream_lines(proc, INSTALL_TIMEOUT_S, on_line)
    _check(who, code, list(tail), progress)


def _check(who: str, code: int | None, tail: list[str], progress: Progress) -> None:
    """Nothing when the step passed; else its RestoreError (code None: past its limit)."""
    if code is None:
        progress.failed(who, tail)
        raise RestoreError(f"{who} did not finish within {INSTALL_TIMEOUT_S:g} s")
    if code == 0:
        return
    progress.failed(who, tail)
    why = _why(tail) or "no output"
    raise RestoreError(f"{who} failed (exit {code}), nothing changed: {why}")


def _why(lines: list[str]) -> str:
    """The line of an installer's output that says what went wrong, and the URL that
    failed when that line does not name it (uv puts it on a line of its own)."""
    lines = [ln.strip() for ln in lines if ln.strip()]
    found = ""
    for marker in ("ERROR:", "error:", "\u00d7", "hint:"):  # uv marks errors with a cross
        found = next((ln for ln in lines if ln.startswith(marker)), "")
        if found:
            break
    found = found or (lines[-1] if lines else "")
    if "://" not in found:
        url = next(
            (m.group() for ln in reversed(lines) for m in [_pattern(_URL).search(ln)] if m), ""
        )
        if url:
            found = f"{found} ({url})"
    return found


_URL = r"https?://[^\s`'\")]+"
