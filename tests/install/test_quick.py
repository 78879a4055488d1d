"""install/quick.py: the stored plan found by the lock file's stat, DIR prepared as
Swap.begin() prepares it and uv started, or nothing at all (None, DIR untouched) where
anything needs a closer look; and the few things it does without the modules that
would do them (json's marker, shutil.which, livecache's directory) held to those."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from envlock.install import ahead, quick, quickplan
from envlock.install.marker import read_marker
from envlock.install.plancache import Guess
from tests.install.test_swap import tree

KEY = "k" * 64


def _guess(requirements: str = "six==1.17.0\n") -> Guess:
    return Guess(requirements=requirements, complete=True, pins=1, sections=("packages",),
                 live=False, rules=("pip",))  # fmt: skip


def _stored(tmp_path: Path, lock: Path, key: str = KEY, guess: Guess | None = None) -> None:
    quickplan.store(str(tmp_path / "cache"), str(lock), os.stat(lock), key, guess or _guess())


@pytest.fixture
def lock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A lock with a plan stored for it, the provisioned uv first on PATH, offline and
    without a cache (it fails at once: six is nowhere), the cache directory the test's."""
    from tests.conftest import VENV_ROOT, need

    uv = VENV_ROOT / "uv-13" / "bin" / "uv"
    need(uv.exists(), f"uv is missing: {uv} (provisioned by .ci/run)")
    monkeypatch.setenv("ENVLOCK_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", f"{uv.parent}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("UV_OFFLINE", "1")
    monkeypatch.setenv("UV_NO_CACHE", "1")
    path = tmp_path / "envlock.lock.toml"
    path.write_text("[envlock]\n")
    _stored(tmp_path, path)
    return path


def _found(tmp_path: Path, lock: Path) -> tuple[str, Guess] | None:
    return quickplan.load(str(tmp_path / "cache"), str(lock))


def test_the_plan_is_found_for_the_lock_file_as_it_was_stored(tmp_path: Path, lock: Path) -> None:
    assert _found(tmp_path, lock) == (KEY, _guess())
    assert _found(tmp_path, tmp_path / "other.toml") is None
    lock.write_text("[envlock]\n# changed\n")  # its size, mtime and ctime
    assert _found(tmp_path, lock) is None
    odd = Guess(requirements="a\0b:\n", complete=False, pins=0, sections=(), live=True,
                rules=("x=1", "", "12:3"))  # fmt: skip
    _stored(tmp_path, lock, key="j" * 64, guess=odd)
    assert _found(tmp_path, lock) == ("j" * 64, odd)


def _fields(path: Path) -> list[str]:
    fields = quickplan.decode(path.read_bytes())
    assert fields is not None
    return fields


@pytest.mark.parametrize(
    "damage",
    [b"", b"\x00\x01garbage", b"99999999999:x", b"\xe9" * 40, "truncated", "another file",
     "a flag", "a count", "one more"],
)  # fmt: skip
def test_a_damaged_or_foreign_entry_is_a_miss(tmp_path: Path, lock: Path, damage: object) -> None:
    path = Path(quickplan.entry_path(str(tmp_path / "cache"), str(lock), os.stat(lock)))
    good = _fields(path)
    at = good.index(KEY)  # the identity's last field (ctime) before it
    if damage == "truncated":
        data = path.read_bytes()[:-5]
    elif damage == "another file":
        data = quickplan._encode([*good[: at - 1], "0", *good[at:]])
    elif damage == "a flag":
        data = quickplan._encode([*good[: at + 2], "yes", *good[at + 3 :]])
    elif damage == "a count":
        data = quickplan._encode([*good[: at + 5], "2", *good[at + 6 :]])
    elif damage == "one more":
        data = quickplan._encode([*good, "x"])
    else:
        assert isinstance(damage, bytes)
        data = damage
    path.write_bytes(data)
    assert _found(tmp_path, lock) is None


def test_the_marker_is_what_json_writes() -> None:
    for started, boot, names in [
        ("1234", "0b5e-77", ()),
        (None, None, ("bin", "lib", "pyvenv.cfg")),
        ('a"b\\c', "caf\u00e9\x7f\n", ("etc", "n\u00e4me", 'q"uote')),
    ]:
        doc = {"envlock-restore": 1, "pid": 42, "started": started, "boot": boot,
               "phase": "swap", "moved-in": list(names)}  # fmt: skip
        assert quick.marker_text(42, started, boot, "swap", names) == json.dumps(doc)


def test_which_finds_what_shutil_finds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tool = tmp_path / "a" / "tool"
    tool.parent.mkdir()
    tool.write_text("#!/bin/sh\n")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "tool").mkdir()  # a directory of that name is not it
    plain = tmp_path / "c" / "tool"
    plain.parent.mkdir()
    plain.write_text("not executable")
    monkeypatch.chdir(tmp_path / "a")
    for path in [f"{tmp_path}/b:{tmp_path}/c:{tmp_path}/a", f"{tmp_path}/c", "", ":", None]:
        if path is None:
            monkeypatch.delenv("PATH", raising=False)
        else:
            monkeypatch.setenv("PATH", path)
        for mode in (0o755, 0o644):
            tool.chmod(mode)
            assert quick.which("tool") == shutil.which("tool"), (path, mode)


def test_the_cache_directory_is_livecaches(monkeypatch: pytest.MonkeyPatch) -> None:
    from envlock.livecache import cache_dir

    for cache, xdg in [("/c/e", "/x"), ("", "/x"), ("", ""), (None, None)]:
        for name, value in (("ENVLOCK_CACHE_DIR", cache), ("XDG_CACHE_HOME", xdg)):
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)
        assert quickplan.cache_dir() == str(cache_dir())


def _foreign(venv: Path) -> None:
    (venv / "notes.txt").write_text("mine")


def _leftover(venv: Path) -> None:
    (venv / ".envlock-restore-build").mkdir()


def _old_style(venv: Path) -> None:
    (venv.parent / f"{venv.name}.envlock-old-12345").mkdir()


def _uvs_markers(venv: Path) -> None:
    (venv / ".gitignore").write_text("*\n")  # uv's: venvdir reads it to tell


def _a_lock_with_bytes(venv: Path) -> None:
    (venv / ".lock").write_text("not uv's")  # uv's is empty


@pytest.mark.parametrize(
    "unusual", [_foreign, _leftover, _old_style, _uvs_markers, _a_lock_with_bytes]
)
def test_nothing_starts_where_dir_needs_a_closer_look(
    tmp_path: Path, lock: Path, unusual: object
) -> None:
    venv = tmp_path / "v"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    assert callable(unusual)
    unusual(venv)
    before = tree(tmp_path)
    assert quick.start(str(lock), str(venv), "auto") is None
    assert tree(tmp_path) == before


def test_nothing_starts_without_uv_or_for_pip(
    tmp_path: Path, lock: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    venv = tmp_path / "v"
    assert quick.start(str(lock), str(venv), "pip") is None
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    assert quick.start(str(lock), str(venv), "auto") is None
    assert not venv.exists()


@pytest.mark.parametrize("existing", [True, False], ids=["existing-venv", "new-dir"])
def test_a_start_prepares_dir_as_swap_does_and_stopping_puts_it_back(
    tmp_path: Path, lock: Path, existing: bool
) -> None:
    venv = tmp_path / "deep" / "v"
    if existing:
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
        (venv / ".lock").write_bytes(b"")  # uv's, as the last restore with uv left it
    before = tree(tmp_path / "deep")
    begun = quick.start(str(lock), str(venv), "uv")
    assert begun is not None
    run = venv / ".envlock-restore-build"
    mark = read_marker(str(run))
    assert mark is not None and mark.pid == os.getpid() and mark.phase == "build"
    assert (run / "requirements.envlock.txt").read_text() == "six==1.17.0\n"
    assert begun.fill == ("uv", "pip", "sync", "--python", f"{run}/venv/bin/python",
                          f"{run}/requirements.envlock.txt")  # fmt: skip
    assert begun.child.stdout is not None
    said = begun.child.stdout.read()  # uv ran on the new venv (and found no six offline)
    assert f"environment at: {run}/venv" in said and begun.child.wait() != 0
    assert (run / "venv" / "pyvenv.cfg").is_file() and (run / "venv" / "bin" / "python").exists()
    assert begun.made == (() if existing else (str(tmp_path / "deep"), str(venv)))
    found = ahead._taken_over(begun, str(lock), str(venv))  # the activate scripts, the key
    assert found is not None
    started, guess, inputs = found
    assert guess is None  # the lock's real key is not the stored one: the full CLI plans
    assert inputs[:3] == (str(lock), str(venv), "uv") and inputs[3] not in (None, KEY)
    assert started.swap.target.run == str(run) and started.launch is not None
    assert sorted(os.listdir(run / "venv" / "bin"))[:2] == ["Activate.ps1", "activate"]
    ahead.release()
    assert tree(tmp_path / "deep") == before


def test_a_venv_built_here_is_the_venv_modules(tmp_path: Path, lock: Path) -> None:
    """The core written before uv and the scripts after it make the module's tree as
    swap_in() relocates it to DIR (tests/install/test_venvwrite.py holds write() to the
    module for every Python): written for DIR already, so that nothing of it is
    rewritten after uv (relocate() finds the build path in none of its files)."""
    from envlock.install import venvwrite
    from envlock.install.relocate import relocate

    if not venvwrite.known():
        pytest.skip("venvwrite does not know this interpreter's venv module")
    venv = tmp_path / "v"
    begun = quick.start(str(lock), str(venv), "uv")
    assert begun is not None
    begun.child.wait()
    assert begun.child.stdout is not None
    begun.child.stdout.close()
    venvwrite.write_scripts(begun.scripts)
    build = Path(begun.build)
    suffix = begun.build[len(begun.final) :]
    ours = tree(build)
    ours.pop(".lock", None)  # uv's own, written as it ran (venvdir.VENV_FILES)
    files = [p for p in build.rglob("*") if p.is_file() and not p.is_symlink()]
    assert files and not [p for p in files if suffix.encode() in p.read_bytes()]
    assert all(str(venv) in (build / n).read_text() for n in ("pyvenv.cfg", "bin/activate"))
    shutil.rmtree(build)
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", "--prompt", "v", str(build)], check=True
    )
    module = tree(build)
    assert module != ours  # the module's names the build path, until relocated
    relocate(str(build), suffix)
    module = tree(build)
    assert module.pop(venvwrite.HEADERS) == "dir"  # RUN becomes it at commit (swap.py)
    assert ours == module
    quick._undone(list(begun.made), begun.fd, begun.run)
    assert not venv.exists()


@pytest.mark.parametrize("existing", [True, False], ids=["existing-venv", "new-dir"])
def test_run_becomes_the_new_venvs_empty_headers_directory_at_commit(
    tmp_path: Path, lock: Path, existing: bool
) -> None:
    """The working directory, emptied once the verdict is in, is renamed to the new
    venv's empty include/pythonX.Y (which the quick start leaves out) instead of being
    removed: DIR is then the venv module's tree, as the swap relocates it, and no RUN."""
    from envlock.install import venvwrite
    from envlock.install.relocate import relocate

    if not venvwrite.known():
        pytest.skip("venvwrite does not know this interpreter's venv module")
    venv = tmp_path / "v"
    if existing:
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    begun = quick.start(str(lock), str(venv), "uv")
    assert begun is not None
    begun.child.wait()
    assert begun.child.stdout is not None
    begun.child.stdout.close()
    found = ahead._taken_over(begun, str(lock), str(venv))
    assert found is not None
    swap = found[0].swap
    assert not (Path(begun.build) / venvwrite.HEADERS).exists()
    swap.swap_in()
    assert not (venv / venvwrite.HEADERS).exists()  # while verify runs: RUN still holds
    run_inode = os.stat(begun.run).st_ino
    swap.commit()
    ahead._started.clear()  # taken over: nothing for release() to stop
    assert swap.kept and not os.path.lexists(begun.run)
    headers = venv / venvwrite.HEADERS
    assert headers.is_dir() and not os.listdir(headers) and os.stat(headers).st_ino == run_inode
    ours = tree(venv)
    ours.pop(".lock", None)  # uv's own
    # the module's venv at the same build path, relocated as the swap relocates it
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", "--prompt", "v", begun.build], check=True
    )
    relocate(begun.build, begun.build[len(begun.final) :])
    module = tree(Path(begun.build))
    shutil.rmtree(begun.run)
    assert ours == module


def test_run_is_removed_where_the_new_venv_has_no_place_for_it(tmp_path: Path) -> None:
    """A swap told that RUN becomes a directory the new venv cannot take (no include/,
    or the name there already) removes RUN as before and adds nothing to DIR."""
    from envlock.install.swap import Swap
    from envlock.install.venvdir import target
    from tests.install.test_swap import fake_venv

    for shape in ("no-include", "taken"):
        d = tmp_path / shape
        s = Swap.begin(target(str(d), force=False), [].append)
        s.becomes = os.path.join("include", "python3.11")
        fake_venv(Path(s.target.build), "new")
        include = Path(s.target.build) / "include"
        if shape == "no-include":
            shutil.rmtree(include)
        else:
            (include / "python3.11").write_text("a file of that name")
        s.swap_in()
        expected = tree(d)
        expected.pop(os.path.basename(s.target.run) + "/" + "envlock-restore.json", None)
        s.commit()
        assert s.kept and not os.path.lexists(s.target.run)
        assert tree(d) == {k: v for k, v in expected.items() if not k.startswith(".envlock")}


def test_a_replaced_venv_is_removed_without_following_its_links(tmp_path: Path) -> None:
    """remove_run(): RUN's held old venv (a tree with links to a directory outside it,
    to a sibling and to nothing) goes, deepest first, and the marker with RUN; what a
    link points to stays."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("kept")
    run = tmp_path / "DIR" / quick.FIXED_RUN
    deep = run / "old" / "lib" / "python3.11" / "site-packages" / "six"
    deep.mkdir(parents=True)
    (deep / "__init__.py").write_text("")
    (run / "old" / "lib64").symlink_to("lib")
    (run / "old" / "linked").symlink_to(outside)
    (run / "old" / "dangling").symlink_to(tmp_path / "nowhere")
    (run / "venv").mkdir()
    quick.write_marker(str(run), "commit")
    quick.remove_run(str(run))
    assert sorted(p.name for p in (tmp_path / "DIR").iterdir()) == []
    assert sorted(p.name for p in outside.iterdir()) == ["keep.txt"]
