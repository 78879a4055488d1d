"""Installing a lock: into a new venv that replaces the old one only when the install
succeeded, or into an existing interpreter after a dry run of the same install.

uv when it is on PATH, else pip. The pins are `envlock export --format requirements`
of the same lock (lock.export.plan_install), so what restore installs is what export
writes. Verifying the result is the API's (api.restore_lock), after this returns.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from envlock.errors import RestoreError, last_line
from envlock.lock.export import InstallPlan, requirements_text

INSTALLERS = ("auto", "uv", "pip")
INSTALL_TIMEOUT_S = 3600.0


@dataclass(frozen=True, kw_only=True, slots=True)
class Step:
    argv: tuple[str, ...]
    what: str

    def shell(self) -> str:
        return " ".join(shlex.quote(a) for a in self.argv)


@dataclass(frozen=True, kw_only=True, slots=True)
class Installation:
    installer: str  # uv or pip
    python: str  # the interpreter the result runs under
    steps: tuple[Step, ...]
    swap: tuple[str, str] | None = None  # (new directory, final directory) for --venv
    notes: list[str] = field(default_factory=list)


def choose_installer(wanted: str) -> str:
    if wanted not in INSTALLERS:
        raise RestoreError(f"--installer {wanted!r}: one of {', '.join(INSTALLERS)}")
    if wanted == "auto":
        return "uv" if shutil.which("uv") else "pip"
    if wanted == "uv" and not shutil.which("uv"):
        raise RestoreError("--installer uv: uv is not on PATH")
    return wanted


def python_minor(python: str) -> str:
    """major.minor of an interpreter (run it: the file may be a wrapper or a symlink)."""
    if not (os.path.isfile(python) and os.access(python, os.X_OK)):
        raise RestoreError(f"{python}: not an executable file")
    try:
        out = subprocess.run(
            [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
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
) -> Installation:
    """The exact commands; nothing runs here except asking interpreters their version."""
    if (venv is None) == (python is None):
        raise RestoreError("give exactly one of --venv DIR and --python PY")
    if venv is not None:
        final = Path(venv).absolute()
        foreign = not (final / "pyvenv.cfg").is_file() and (
            not final.is_dir() or any(final.iterdir())
        )
        if final.exists() and foreign:
            raise RestoreError(
                f"--venv {venv}: exists and is not a virtual environment: not replaced"
            )
        base = base_python or sys.executable
        have = python_minor(base)
        if locked_python and have != locked_python:
            raise RestoreError(
                f"the lock is for Python {locked_python}, {base} is {have}: "
                "pass --base-python with a Python " + locked_python
            )
        new = final.parent / f".{final.name}.envlock-new-{os.getpid()}"
        new_python = str(new / "bin" / "python")
        if installer == "uv":
            steps = [
                Step(argv=("uv", "venv", "--quiet", "--python", base, str(new)), what="venv"),
                Step(
                    argv=(
                        "uv",
                        "pip",
                        "sync" if plan.complete else "install",
                        "--python",
                        new_python,
                        *(() if plan.complete else ("-r",)),
                        requirements,
                    ),
                    what="install",
                ),
            ]
        else:
            steps = [
                Step(argv=(base, "-m", "venv", str(new)), what="venv"),
                Step(argv=_pip(new_python, plan, requirements), what="install"),
            ]
        return Installation(
            installer=installer,
            python=str(final / "bin" / "python"),
            steps=tuple(steps),
            swap=(str(new), str(final)),
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
        install = _pip(python, plan, requirements)
        steps = [
            Step(argv=(*install, "--dry-run"), what="check"),
            Step(argv=install, what="install"),
        ]
    return Installation(installer=installer, python=python, steps=tuple(steps))


def _pip(python: str, plan: InstallPlan, requirements: str) -> tuple[str, ...]:
    return (
        python,
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--no-input",
        *(("--no-deps",) if plan.complete else ()),
        "-r",
        requirements,
    )


def dry_run_lines(inst: Installation) -> list[str]:
    lines = [step.shell() for step in inst.steps]
    if inst.swap is not None:
        new, final = inst.swap
        old = f"{final}.envlock-old"
        lines += [
            f"# then: rewrite {new} to {final} in {new}/bin/* and {new}/pyvenv.cfg",
            f"[ ! -e {shlex.quote(final)} ] || mv {shlex.quote(final)} {shlex.quote(old)}",
            f"mv {shlex.quote(new)} {shlex.quote(final)}",
            f"rm -rf {shlex.quote(old)}",
        ]
    return lines


def install(
    inst: Installation,
    plan: InstallPlan,
    *,
    header: str,
    log: Callable[[str], None] = lambda line: None,
) -> None:
    """Run the steps; a failure leaves the target as it was (RestoreError, exit 3)."""
    workdir = tempfile.mkdtemp(prefix="envlock-restore-")
    requirements = os.path.join(workdir, "requirements.envlock.txt")
    with open(requirements, "w", encoding="utf-8") as fh:
        fh.write(requirements_text(plan, header=header))
    new = inst.swap[0] if inst.swap else None
    try:
        for step in inst.steps:
            argv = tuple(requirements if a == REQUIREMENTS else a for a in step.argv)
            log(f"$ {' '.join(shlex.quote(a) for a in argv)}")
            _run(argv, inst.installer if step.what != "venv" else "venv")
        if inst.swap is not None:
            _swap(*inst.swap)
    except BaseException:
        if new is not None:
            shutil.rmtree(new, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


# The requirements file's name in planned steps; install() puts the real path there.
REQUIREMENTS = "requirements.envlock.txt"


def _run(argv: tuple[str, ...], who: str) -> None:
    env = dict(os.environ)
    env.setdefault("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    try:
        proc = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT_S,
            env=env,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        raise RestoreError(f"{who} did not finish within {INSTALL_TIMEOUT_S:g} s") from None
    except OSError as exc:
        raise RestoreError(f"cannot run {argv[0]}: {exc.strerror}") from None
    if proc.returncode != 0:
        why = _why(proc.stderr) or last_line(proc.stdout, "no output")
        raise RestoreError(f"{who} failed (exit {proc.returncode}), nothing changed: {why}")


def _why(stderr: str) -> str:
    """The line of an installer's error output that says what went wrong."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    for marker in ("ERROR:", "error:", "\u00d7", "hint:"):  # uv marks errors with a cross
        for ln in lines:
            if ln.startswith(marker):
                return ln
    return lines[-1] if lines else ""


def _swap(new: str, final: str) -> None:
    """Make the venv built at `new` the one at `final`: its scripts name the final path,
    then the old venv (if any) moves aside, the new one takes its place, the old goes."""
    _relocate(Path(new), new, final)
    old = f"{final}.envlock-old-{os.getpid()}"
    had_old = os.path.lexists(final)
    if had_old:
        os.rename(final, old)
    try:
        os.rename(new, final)
    except OSError:
        if had_old:
            os.rename(old, final)
        raise
    if had_old:
        shutil.rmtree(old, ignore_errors=True)


def _relocate(root: Path, old: str, new: str) -> None:
    """Rewrite the venv's own path in its scripts (shebangs, activate) and pyvenv.cfg."""
    candidates = [root / "pyvenv.cfg", *(p for p in (root / "bin").iterdir() if p.is_file())]
    for path in candidates:
        if path.is_symlink():
            continue
        try:
            data = path.read_bytes()
        except OSError:
            continue
        if old.encode() in data and b"\0" not in data[:4096]:
            path.write_bytes(data.replace(old.encode(), new.encode()))
