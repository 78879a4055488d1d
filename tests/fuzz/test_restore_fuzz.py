"""Property-based fuzzing of `restore --venv DIR`'s path handling (issue 19 item 1): the
swap of a venv's entries (install/swap.py) over any contents of DIR, a SIGKILL at any
move, any spelling of DIR, any path text in the scripts, any marker file.

Properties: nothing foreign to a venv (nor anything a symlink in DIR points to) is
ever changed; a swap rolled back, or killed at any step before it was committed and
then swept by the next run, leaves DIR exactly as it was; a committed one leaves the
new venv and nothing of restore's own; relocation turns every quoting of the build
path into the same quoting of DIR; a directory without a valid marker is never removed.
Each example runs on real directories (a fresh temporary one); venvs are trees shaped
like `python -m venv`'s (the real installs are in tests/commands/test_restore.py).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from envlock.errors import RestoreError
from envlock.install import marker, swap, venvdir
from envlock.install.marker import MARKER
from envlock.install.relocate import relocate
from envlock.install.swap import Swap, sweep
from envlock.install.venvdir import entries, target
from tests.fuzz.test_fuzz import EXAMPLES, FUZZ
from tests.install.test_swap import tree

pytestmark = pytest.mark.fuzz

RESTORE = settings(FUZZ, deadline=None, max_examples=max(30, EXAMPLES // 15))

VENV_NAMES = sorted(venvdir.VENV_DIRS | venvdir.VENV_FILES)
USER_NAMES = [
    "train.py",
    ".git",
    "NOTES.md",
    "libs",
    "library",
    "etc",
    "bin2",
    "pyvenv.cfg.bak",
    ".envlock-restore-1",  # a look-alike of restore's own working directory
    ".envlock-restore-x",
    "envlock-restore.json",
    "-rf",
    "a b",
    "new\nline",
    "ü",
]
# an entry: a file (content), a directory holding a file, or a symlink (inside/outside)
entry_kind = st.one_of(
    st.tuples(
        st.just("file"),
        st.sampled_from(
            ["", "*", "*\n", "# c\n*\n", "x", "Signature: 8a477f597d28d172789f06886806bc55"]
        ),
    ),
    st.tuples(st.just("dir"), st.text(max_size=8)),
    st.tuples(st.just("link"), st.sampled_from(["lib", "../outside", "/nonexistent"])),
)
contents = st.dictionaries(st.sampled_from(VENV_NAMES + USER_NAMES), entry_kind, max_size=10)
new_venv = st.dictionaries(
    st.sampled_from([*VENV_NAMES, "etc", "man"]), entry_kind, min_size=1, max_size=6
)


UV_FILES = (".gitignore", "CACHEDIR.TAG", ".lock")


def _uvs(name: str, entry: tuple[str, str]) -> bool:
    """Whether an entry named like one of uv's marker files holds what uv writes."""
    kind, data = entry
    if kind != "file":
        return False
    return {
        ".gitignore": data in ("*", "*\n", "# c\n*\n"),
        "CACHEDIR.TAG": data.startswith("Signature: 8a477f597d28d172789f06886806bc55"),
        ".lock": data == "",
    }[name]


def _make(root: Path, items: dict[str, tuple[str, str]]) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for name, (kind, data) in items.items():
        path = root / name
        if kind == "file":
            path.write_text(data)
        elif kind == "dir":
            path.mkdir()
            (path / "f").write_text(data)
        else:
            path.symlink_to(data)


def _world(items: dict[str, tuple[str, str]], is_venv: bool) -> tuple[Path, Path]:
    """A fresh temporary directory with DIR (`v`: a venv or not) and a directory outside
    it that symlinks in DIR point to."""
    top = Path(tempfile.mkdtemp(prefix="restore-fuzz-"))
    (top / "outside").mkdir()
    (top / "outside" / "keep").write_text("outside")
    d = top / "v"
    _make(d, items)
    cfg = d / "pyvenv.cfg"
    if cfg.is_dir() and not cfg.is_symlink():
        shutil.rmtree(cfg)
    elif os.path.lexists(cfg):
        cfg.unlink()
    if is_venv:
        cfg.write_text("home = /usr/bin\n")
    return top, d


def _parts(d: Path, names: list[str]) -> dict[str, dict[str, str]]:
    return {
        n: tree(d / n) if (d / n).is_dir() and not (d / n).is_symlink() else {"": _kind(d / n)}
        for n in names
    }


def _kind(path: Path) -> str:
    if path.is_symlink():
        return "link:" + os.readlink(path)
    return "file:" + path.read_text() if path.is_file() else "?"


def _ours_left(d: Path) -> list[str]:
    return [
        n
        for n in os.listdir(d)
        if n.startswith(".envlock-restore-")
        and n[len(".envlock-restore-") :].isdigit()
        and n != ".envlock-restore-1"
    ]


@RESTORE
@given(contents, st.booleans(), new_venv, st.booleans(), st.booleans())
@example({"train.py": ("file", "x"), ".git": ("dir", "")}, True, {"bin": ("dir", "")}, False, True)
@example({"bin": ("link", "../outside")}, True, {"bin": ("dir", "")}, False, True)
@example(
    {"CACHEDIR.TAG": ("file", "x"), ".lock": ("file", "x")}, True, {"lib": ("dir", "")}, True, True
)
def test_a_swap_never_touches_what_is_not_a_venvs(
    items: dict[str, tuple[str, str]],
    is_venv: bool,
    new: dict[str, tuple[str, str]],
    force: bool,
    commit: bool,
) -> None:
    top, d = _world(items, is_venv)
    try:
        before, outside = tree(d), tree(top / "outside")
        ours, foreign = entries(str(d))
        assert set(ours) | set(foreign) == set(os.listdir(d))
        # the oracle, apart from the code's: a user's names, files named like uv's that
        # are not uv's, and all of a non-venv are foreign
        assert set(USER_NAMES) & set(ours) == set()
        assert not [n for n in ours if n in UV_FILES and not _uvs(n, items[n])]
        if not is_venv:
            assert ours == []
        try:
            t = target(str(d), force=force)
        except RestoreError as exc:
            assert foreign and not force and "\n" not in str(exc)
            assert tree(d) == before
            return
        kept = _parts(d, foreign)
        s = Swap.begin(t, [].append)
        _make(Path(t.build), new)
        try:
            s.swap_in()
        except RestoreError:
            s.roll_back()
            assert tree(d) == before
            return
        if commit:
            s.commit()
            assert _parts(d, foreign) == kept
            for name in new:
                assert os.path.lexists(d / name) or name in venvdir.OPTIONAL
            gone = set(ours) - set(new)
            assert not any(os.path.lexists(d / n) for n in gone)
        else:
            s.roll_back()
            assert tree(d) == before
        assert _ours_left(d) == []
        assert tree(top / "outside") == outside
    finally:
        shutil.rmtree(top)


def _run_killed_at(d: Path, new: dict[str, tuple[str, str]], k: int) -> int:
    """Swap and commit in a child that SIGKILLs itself at the k-th move or removal."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover (the child: never returns into pytest)
        try:
            count = [0]

            def dying(real):  # type: ignore[no-untyped-def]
                def step(*args):  # type: ignore[no-untyped-def]
                    count[0] += 1
                    if count[0] == k:
                        os.kill(os.getpid(), signal.SIGKILL)
                    return real(*args)

                return step

            swap._rename = dying(os.rename)
            swap.shutil.rmtree = dying(shutil.rmtree)
            swap.os.unlink = dying(os.unlink)
            s = Swap.begin(target(str(d), force=True), [].append)
            _make(Path(s.target.build), new)
            s.swap_in()
            s.commit()
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    return pid


@RESTORE
@given(contents, new_venv, st.integers(1, 30))
def test_a_kill_at_any_step_is_undone_by_the_next_run(
    items: dict[str, tuple[str, str]], new: dict[str, tuple[str, str]], k: int
) -> None:
    top, d = _world(items, True)
    try:
        before, outside = tree(d), tree(top / "outside")
        ours, foreign = entries(str(d))
        kept = _parts(d, foreign)
        _run_killed_at(d, new, k)
        sweep(str(d), [].append)
        assert _ours_left(d) == []
        assert _parts(d, foreign) == kept and tree(top / "outside") == outside
        after = tree(d)
        if after != before:  # then it had reached its commit: the new venv, whole
            moved = [n for n in new if n not in foreign]
            for name in moved:
                assert os.path.lexists(d / name)
            assert not any(os.path.lexists(d / n) for n in set(ours) - set(new))
    finally:
        shutil.rmtree(top)


path_text = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="/\0"), min_size=1, max_size=12
)


@RESTORE
@given(st.lists(path_text, min_size=1, max_size=4), st.integers(1, 2**22), path_text)
@example(['it\'s a "venv"'], 42, "x")
def test_relocation_turns_every_quoting_of_the_build_path_into_dirs(
    parts: list[str], pid: int, noise: str
) -> None:
    final = "/" + "/".join(parts)
    suffix = f"/.envlock-restore-{pid}/venv"
    forms = [
        lambda p: p,
        shlex.quote,
        json.dumps,
        repr,
        lambda p: '"' + p.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$") + '"',
    ]
    top = Path(tempfile.mkdtemp(prefix="restore-fuzz-"))
    try:
        (top / "bin").mkdir()
        text = "\n".join(f"{noise}{f(final + suffix)}{noise}" for f in forms)
        (top / "bin" / "activate").write_bytes(text.encode())
        (top / "pyvenv.cfg").write_bytes(f"command = venv {final}{suffix}\n{noise}".encode())
        relocate(str(top), suffix)
        got = (top / "bin" / "activate").read_bytes().decode()
        assert got == "\n".join(f"{noise}{f(final)}{noise}" for f in forms)
        assert (top / "pyvenv.cfg").read_bytes().decode() == f"command = venv {final}\n{noise}"
    finally:
        shutil.rmtree(top)


@RESTORE
@given(
    st.lists(
        st.sampled_from(["a/..", "link/..", ".", "", "a/b/../..", "link/b/../.."]), max_size=6
    ),
    st.sampled_from(["a", "link"]),
    st.sampled_from(["", "/", "/.", "/../venv"]),
    st.booleans(),
)
def test_any_spelling_of_dir_is_its_one_absolute_path(
    hops: list[str], via: str, tail: str, relative: bool
) -> None:
    """`..` after a symlink is the link target's parent (as the kernel resolves it)."""
    top = Path(tempfile.mkdtemp(prefix="restore-fuzz-")).resolve()
    try:
        real = top / "a" / "b" / "venv"
        real.mkdir(parents=True)
        (top / "link").symlink_to(top / "a")
        spelled = "/".join([str(top), *hops, via, "b", "venv"]) + tail
        if relative:
            spelled = os.path.relpath(spelled)
        t = target(spelled, force=False)
        assert t.final == str(real)
        assert t.build == t.final + t.suffix and t.suffix.startswith("/.envlock-restore-")
    finally:
        shutil.rmtree(top)


VALID_MARKER = {
    "envlock-restore": 1,
    "pid": 999999,
    "started": None,
    "boot": None,
    "phase": "swap",
    "moved-in": ["bin"],
}
wrong_value = st.one_of(
    st.integers(-2, 2**40),
    st.just(True),
    st.sampled_from(["build", "x", "..", "a/b", "", "999999"]),
    st.lists(st.sampled_from(["bin", "..", "a/b", "", ".", "lib", "a\0b"]), max_size=3),
    st.lists(st.integers(0, 3), max_size=2),
    st.none(),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@st.composite
def markers(draw: st.DrawFn) -> bytes:
    """The valid marker with one or two fields wrong or missing, or any bytes."""
    if draw(st.integers(0, 4)) == 0:
        return draw(st.binary(max_size=200))
    doc: dict[str, object] = dict(VALID_MARKER)
    for key in draw(st.lists(st.sampled_from(sorted(VALID_MARKER)), max_size=2, unique=True)):
        if draw(st.booleans()):
            del doc[key]
        else:
            doc[key] = draw(wrong_value)
    return json.dumps(doc).encode()


def _valid(data: bytes, pid: Callable[[int], bool] = lambda p: p == 999999) -> bool:
    """The oracle: what a marker restore wrote looks like (`pid`: which pids it names;
    tests/fuzz/test_restore_fixed_run_fuzz.py takes any positive one)."""
    try:
        doc = json.loads(data)
    except ValueError:
        return False
    if not isinstance(doc, dict) or not {"envlock-restore", "pid", "phase", "moved-in"} <= set(doc):
        return False
    names = doc["moved-in"]
    return (
        type(doc["envlock-restore"]) is int
        and doc["envlock-restore"] == 1
        and type(doc["pid"]) is int
        and pid(doc["pid"])
        and doc["phase"] in ("build", "swap", "commit")
        and isinstance(names, list)
        and all(
            isinstance(n, str) and n not in ("", ".", "..") and not set(n) & {"/", "\0"}
            for n in names
        )
        and all(isinstance(doc.get(k), (str, type(None))) for k in ("started", "boot"))
    )


@RESTORE
@given(markers())
@example(json.dumps(VALID_MARKER).encode())
def test_a_directory_without_a_valid_marker_is_never_removed(data: bytes) -> None:
    top = Path(tempfile.mkdtemp(prefix="restore-fuzz-"))
    try:
        d = top / "v"
        run = d / ".envlock-restore-999999"  # no such process
        run.mkdir(parents=True)
        (run / MARKER).write_bytes(data)
        (run / "data").write_text("someone's")
        mark = marker.read_marker(str(run))
        assert (mark is not None) == _valid(data)
        sweep(str(d), [].append)
        if mark is None:
            assert (run / "data").read_text() == "someone's"
        else:
            assert mark.pid == 999999 and not run.exists()
    finally:
        shutil.rmtree(top)
