"""What a venv's own entries are, and so what `restore --venv DIR` may move: the names
`python -m venv` and `uv venv` make (uv's marker files by their content), those an
earlier restore recorded in pyvenv.cfg, and nothing else (install/swap.py moves them)."""

from __future__ import annotations

import os
import stat

from envlock.errors import RestoreError
from envlock.frozen import Frozen
from envlock.install.marker import (
    FIXED_RUN,
    RUN_PREFIX,
    RUN_RE,
    plain_name,
    read_marker,
    read_small,
)
from envlock.install.quick import VENV_DIRS as VENV_DIRS  # what a venv's tools make

VENV_FILES = frozenset({"pyvenv.cfg", ".gitignore", "CACHEDIR.TAG", ".lock"})
# uv's own markers: not needed by the venv, so a user's file of that name wins
OPTIONAL = frozenset({".gitignore", "CACHEDIR.TAG", ".lock"})
CACHEDIR_SIGNATURE = b"Signature: 8a477f597d28d172789f06886806bc55"
# pyvenv.cfg key naming the entries beyond VENV_DIRS/VENV_FILES that a restore moved in
# (a package's data files, e.g. etc/jupyter), so the next restore may replace them too
ENTRIES_KEY = "envlock-entries"
NAMED = 5  # foreign names in a refusal; the rest are counted


class VenvTarget(Frozen):
    """Where a venv goes (`final`, absolute, symlinks and `..` resolved) and where it is
    built (`build`, inside `run`, inside `final`). Frozen (envlock/frozen.py), not a
    dataclass: a repeat restore makes one before it starts uv."""

    __slots__ = ("build", "final", "force", "given", "run")
    given: str  # --venv as given, for messages
    final: str
    force: bool
    run: str
    build: str

    def __init__(self, *, given: str, final: str, force: bool, run: str, build: str) -> None:
        self._set(given=given, final=final, force=force, run=run, build=build)

    @property
    def suffix(self) -> str:
        """What the build path adds to the final one: removed from scripts on relocation
        (whatever quoting a tool used for the path, the suffix has nothing to quote)."""
        return self.build[len(self.final.rstrip("/")) :]

    def of_pid(self, pid: int) -> VenvTarget:
        """The same target worked on in RUN_PREFIX + pid (FIXED_RUN was taken)."""
        run = os.path.join(self.final, f"{RUN_PREFIX}{pid}")
        build = os.path.join(run, "venv")
        return VenvTarget(
            given=self.given, final=self.final, force=self.force, run=run, build=build
        )


def target(venv: str, *, force: bool, pid: int | None = None) -> VenvTarget:
    """The target of `--venv venv`, worked on in FIXED_RUN (in RUN_PREFIX + `pid` when
    given); RestoreError when it holds what is not a venv's own (unless force) or is not
    a directory. Reads DIR, changes nothing."""
    if not venv or "\0" in venv:
        raise error(f"--venv {venv!r}: not a path")
    final = os.path.realpath(venv)  # absolute; `..`, `.` and symlinks resolved
    if os.path.islink(final):
        raise error(f"--venv {venv}: a symlink that does not resolve (a loop)")
    if os.path.lexists(final) and not os.path.isdir(final):
        raise error(f"--venv {venv}: exists and is not a directory: not replaced")
    run = os.path.join(final, FIXED_RUN if pid is None else f"{RUN_PREFIX}{pid}")
    made = VenvTarget(
        given=venv, final=final, force=force, run=run, build=os.path.join(run, "venv")
    )
    refuse_foreign(made, entries(final)[1])
    return made


def refuse_foreign(t: VenvTarget, foreign: list[str]) -> None:
    if not foreign or t.force:
        return
    shown = ", ".join(short(n) for n in foreign[:NAMED])
    more = f" (and {len(foreign) - NAMED} more)" if len(foreign) > NAMED else ""
    what = (
        "holds what a virtual environment's tools did not make"
        if os.path.isfile(os.path.join(t.final, "pyvenv.cfg"))
        else "is not a virtual environment (no pyvenv.cfg) and not empty"
    )
    raise error(
        f"--venv {t.given}: {t.final} {what}: {shown}{more}; restore replaces only a venv's "
        "own entries (bin, lib, include, share, pyvenv.cfg): move those out, or pass "
        "--force to build beside them (they are left in place)"
    )


def error(text: str) -> RestoreError:
    """One line whatever DIR and its entries are called (a name may hold a newline)."""
    from envlock.report.safe import plain

    return RestoreError(plain(text, newlines=False))


def short(name: str) -> str:
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
        raise error(f"{final}: cannot list it: {exc.strerror}") from None
    is_venv = is_regular(os.path.join(final, "pyvenv.cfg"))
    recorded = recorded_entries(os.path.join(final, "pyvenv.cfg")) if is_venv else set()
    ours: list[str] = []
    foreign: list[str] = []
    for name in names:
        path = os.path.join(final, name)
        if RUN_RE.fullmatch(name) and (read_marker(path) is not None or is_empty_dir(path)):
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
        return is_regular(path)
    if name not in VENV_FILES or not is_regular(path):
        return False
    data = read_small(path)
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
    data = read_small(cfg, 64 * 1024)
    out: set[str] = set()
    for line in (data or b"").decode("utf-8", "replace").splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() == ENTRIES_KEY:
            out |= {n.strip() for n in value.split(",") if plain_name(n.strip())}
    return out


def is_regular(path: str) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def _exists(path: str) -> bool:
    return os.path.lexists(path)


def is_empty_dir(path: str) -> bool:
    try:
        return not os.path.islink(path) and os.path.isdir(path) and not os.listdir(path)
    except OSError:
        return False
