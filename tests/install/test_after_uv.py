"""What a restore does between its installer's end and its verdict, and what it does
before (issue 23's restore row: each of these is the user's wait after uv): the emptied
build directory removed while the caller verifies (install/swap.py), the machine's and
the environment's facts read while the installer runs (install/venvfacts.preload). On
real directories and real venvs; the swap's venvs are shaped like `python -m venv`'s."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from envlock.install import marker, swap
from envlock.install.swap import Swap, sweep
from envlock.install.venvdir import target
from envlock.probe import system as system_probe

from .test_swap import fake_venv, leftovers, tree

REPO = Path(__file__).resolve().parents[2]


def _swapped(final: Path) -> Swap:
    """A swap of a (fake) new venv into `final`, its emptied build directory's removal
    waited for."""
    s = Swap.begin(target(str(final), force=False), [].append)
    fake_venv(Path(s.target.build), "new")
    s.swap_in()
    s.settle()
    return s


def test_the_emptied_build_directory_goes_before_the_verdict(tmp_path: Path) -> None:
    d = tmp_path / "v"
    fake_venv(d)
    s = _swapped(d)
    run = Path(s.target.run)
    assert not Path(s.target.build).exists()
    # what a killed run needs is all still there: the marker, the old venv held
    assert sorted(os.listdir(run)) == [marker.MARKER, "old"]
    assert (run / "old" / "lib" / "python3.11" / "site-packages" / "old.py").exists()
    s.commit()
    assert (d / "lib" / "python3.11" / "site-packages" / "new.py").exists()
    assert leftovers(d) == []


@pytest.mark.parametrize("existed", [True, False])
def test_a_roll_back_after_it_puts_dir_back_exactly(tmp_path: Path, existed: bool) -> None:
    d = tmp_path / "a" / "v"
    if existed:
        fake_venv(d)
    before = tree(tmp_path)
    s = _swapped(d)
    assert not Path(s.target.build).exists()
    s.roll_back("the new venv did not verify")
    assert tree(tmp_path) == before  # a DIR restore made is gone again, with its parents


def _killed_after_swap(final: Path) -> int:
    """A restore of `final` killed (SIGKILL) after its swap, once its emptied build
    directory was removed: the pid it had."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover (the child)
        try:
            _swapped(final)
        finally:
            os.kill(os.getpid(), signal.SIGKILL)
    os.waitpid(pid, 0)
    return pid


def test_a_run_killed_after_it_is_undone_by_the_next(tmp_path: Path) -> None:
    d = tmp_path / "v"
    fake_venv(d)
    before = tree(d)
    pid = _killed_after_swap(d)
    run = d / marker.FIXED_RUN
    assert leftovers(d) == [marker.FIXED_RUN] and not (run / "venv").exists()
    mark = marker.read_marker(str(run))
    assert mark is not None and mark.pid == pid and mark.phase == "swap"
    notes: list[str] = []
    sweep(str(d), notes.append)
    assert tree(d) == before  # the old venv back, the new one and the run gone
    assert any(f"killed restore (pid {pid})" in n for n in notes), notes


def _counted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The calls of the probe's system collector (the real one runs each time)."""
    calls: list[int] = []
    collect = system_probe.collect

    def counting() -> object:
        calls.append(1)
        return collect()

    monkeypatch.setattr(system_probe, "collect", counting)
    return calls


def test_the_machines_facts_are_read_while_the_installer_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """preload() reads the system and environment sections (the venv plays no part in
    them); the next venv_document() takes them, and reads them again where the
    environment changed since (its env section must be the probe child's)."""
    from envlock.install.venvfacts import preload, venv_document

    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "v")], check=True)
    python = str(tmp_path / "v" / "bin" / "python")
    sections = ("system", "env", "packages")
    calls = _counted(monkeypatch)
    fresh = venv_document(python, sections)
    assert fresh is not None and len(calls) == 1
    preload()
    assert len(calls) == 2
    early = venv_document(python, sections)
    assert early is not None and len(calls) == 2  # preload()'s taken
    for section in sections:
        assert early[section] == fresh[section]  # type: ignore[literal-required]
    preload()
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "7")
    changed = venv_document(python, sections)
    assert changed is not None and len(calls) == 4  # read again: another environment
    assert changed["env"]["variables"]["CUDA_VISIBLE_DEVICES"] == "7"
    again = venv_document(python, sections)
    assert again is not None and len(calls) == 5  # taken once only


def test_the_cuda_toolkits_facts_are_read_while_the_installer_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """preload(cache_dir, cuda=True) reads the cuda section's machine side (the toolkit,
    nvcc's version through the cache in `cache_dir`, LD_LIBRARY_PATH's libraries); the
    next venv_document() with that cache directory, in that environment, takes it, and
    reads it again where either changed since."""
    from envlock.install.venvfacts import preload, venv_document
    from envlock.probe import cudalibs

    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "v")], check=True)
    python = str(tmp_path / "v" / "bin" / "python")
    sections = ("env", "packages", "cuda")
    cache = str(tmp_path / "cache")
    calls: list[object] = []
    toolkit_facts = cudalibs.toolkit_facts

    def counting(*args: object, **kwargs: object) -> object:
        calls.append(kwargs.get("cache"))
        return toolkit_facts(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(cudalibs, "toolkit_facts", counting)
    fresh = venv_document(python, sections, cache_dir=cache)
    assert fresh is not None and len(calls) == 1 and calls[0] is not None  # through the cache
    preload(cache, cuda=True)
    assert len(calls) == 2
    early = venv_document(python, sections, cache_dir=cache)
    assert early is not None and len(calls) == 2  # preload()'s taken
    assert early["cuda"] == fresh["cuda"]
    preload(cache, cuda=True)
    other = venv_document(python, sections, cache_dir=str(tmp_path / "other"))
    assert other is not None and len(calls) == 4  # another cache directory: read again
    preload(cache, cuda=True)
    monkeypatch.setenv("CUDA_HOME", str(tmp_path / "no-toolkit"))
    changed = venv_document(python, sections, cache_dir=cache)
    assert changed is not None and len(calls) == 6  # another environment: read again
    assert changed["cuda"]["toolkit"] is not None
    assert changed["cuda"]["toolkit"]["cuda_home"] != fresh["cuda"]["toolkit"]["cuda_home"]
    preload(cache)  # without cuda: the toolkit is venv_document()'s to read
    assert len(calls) == 6
    assert venv_document(python, sections, cache_dir=cache) is not None and len(calls) == 7


def test_the_warm_restores_facts_and_stored_output_need_no_pathlib(tmp_path: Path) -> None:
    """pathlib (~4 ms of CPU: urllib.parse, ipaddress) is no import of a replayed restore:
    preload(), usecases/warmrestore's cache directory (install/quickplan.cache_dir()'s
    string) and its stored output's lookup use os.path. -S: the machine's .pth files (an
    editable install's finder) import none of it first."""
    code = (
        "import os, sys; sys.path.insert(0, sys.argv[1])\n"
        "from envlock.install.venvfacts import preload\n"
        "from envlock.usecases import warmrestore\n"
        "preload()\n"
        "cache = warmrestore._cache_dir()\n"
        "assert os.fspath(cache) == os.environ['ENVLOCK_CACHE_DIR'], cache\n"
        "print(warmrestore.load(cache, '0' * 64), 'pathlib' in sys.modules)\n"
    )
    env = {**os.environ, "ENVLOCK_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.run(
        [sys.executable, "-S", "-c", code, str(REPO)],
        capture_output=True, text=True, env=env, check=True,
    )  # fmt: skip
    assert proc.stdout.split() == ["None", "False"]


def _killed_in_commit(final: Path) -> int:
    """A restore of `final` killed (SIGKILL) in commit(), as the working directory's
    removal begins: the pid it had."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover (the child)
        try:

            def killed(run: str) -> None:
                os.kill(os.getpid(), signal.SIGKILL)

            swap.remove_run = killed  # type: ignore[assignment]  # the child's own copy
            _swapped(final).commit()
        finally:
            os.kill(os.getpid(), signal.SIGKILL)
    os.waitpid(pid, 0)
    return pid


@pytest.mark.parametrize("held", [True, False])
def test_a_run_killed_in_its_commit_is_finished_only_where_an_old_venv_goes(
    tmp_path: Path, held: bool
) -> None:
    """The commit marker, written after the verdict, only where the old venv's removal
    cannot be undone: with none held (DIR was not there), a run killed while its
    working directory goes is rolled back by the next, as one killed a moment before."""
    d = tmp_path / "v"
    if held:
        fake_venv(d)
    else:
        d.mkdir()
    before = tree(d)
    pid = _killed_in_commit(d)
    mark = marker.read_marker(str(d / marker.FIXED_RUN))
    assert mark is not None and mark.pid == pid
    assert mark.phase == ("commit" if held else "swap")
    sweep(str(d), [].append)
    assert leftovers(d) == []
    if held:  # the old venv was going: the new one stays
        assert (d / "lib" / "python3.11" / "site-packages" / "new.py").exists()
    else:
        assert tree(d) == before
