"""The venv swap of `restore --venv DIR` (install/swap.py), on real directories: what it
may move, the two phases, what a killed run leaves and the next run undoes. The venvs
here are directory trees shaped like `python -m venv`'s (no installer runs); the real
installs are in tests/commands/test_restore.py."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from envlock.errors import RestoreError
from envlock.install import marker, swap, venvdir
from envlock.install.marker import MARKER
from envlock.install.relocate import plain_shebang, relocate
from envlock.install.swap import Swap, sweep
from envlock.install.venvdir import entries, target


def tree(root: Path, content: Callable[[Path], str] | None = None) -> dict[str, str]:
    """Everything under root, symlinks not followed: path -> kind and content (a file's
    sha256, or what `content` makes of it)."""
    out: dict[str, str] = {}
    if not os.path.lexists(root):
        return out
    for here, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(here, name)
            rel = str(path.relative_to(root))
            if path.is_symlink():
                out[rel] = "link:" + os.readlink(path)
            elif path.is_dir():
                out[rel] = "dir"
            elif content is not None:
                out[rel] = content(path)
            else:
                out[rel] = "file:" + hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def fake_venv(root: Path, tag: str = "old") -> None:
    """The entries `python -m venv` makes, a script naming the venv, a file per tag."""
    (root / "bin").mkdir(parents=True, exist_ok=True)
    (root / "bin" / "activate").write_text(f'VIRTUAL_ENV="{root}"\n')
    (root / "bin" / "pip").write_text(f"#!{root}/bin/python\n")
    site = root / "lib" / "python3.11" / "site-packages"
    site.mkdir(parents=True)
    (site / f"{tag}.py").write_text(tag)
    (root / "lib64").symlink_to("lib")
    (root / "include").mkdir()
    (root / "pyvenv.cfg").write_text(f"home = /usr/bin\ncommand = python -m venv {root}\n")


def new_swap(final: Path, *, force: bool = False, notes: list[str] | None = None) -> Swap:
    """begin() a swap and build a (fake) new venv where an installer would."""
    s = Swap.begin(target(str(final), force=force), (notes if notes is not None else []).append)
    fake_venv(Path(s.target.build), "new")
    return s


def leftovers(final: Path) -> list[str]:
    return sorted(n for n in os.listdir(final) if n.startswith(".envlock-restore-"))


def test_only_a_venvs_own_entries_are_ours(tmp_path: Path) -> None:
    d = tmp_path / "v"
    fake_venv(d)
    (d / ".gitignore").write_text("*")  # uv's
    (d / "CACHEDIR.TAG").write_text(venvdir.CACHEDIR_SIGNATURE.decode() + "\n")
    (d / ".lock").write_text("")
    (d / "share").mkdir()
    for name in ("train.py", "libs", "NOTES.md", ".git"):
        (d / name).mkdir() if name in ("libs", ".git") else (d / name).write_text("x")
    ours, foreign = entries(str(d))
    assert ours == sorted(
        [
            ".gitignore",
            ".lock",
            "CACHEDIR.TAG",
            "bin",
            "include",
            "lib",
            "lib64",
            "pyvenv.cfg",
            "share",
        ]
    )
    assert foreign == [".git", "NOTES.md", "libs", "train.py"]
    # a project's own .gitignore, a .lock with content: not uv's
    (d / ".gitignore").write_text("*.pyc\n")
    (d / ".lock").write_text("held")
    assert {".gitignore", ".lock"} <= set(entries(str(d))[1])
    # without pyvenv.cfg nothing is a venv's: bin/ lib/ of /usr/local are not ours
    (d / "pyvenv.cfg").unlink()
    assert entries(str(d))[0] == []


def test_foreign_files_are_refused_in_one_line_naming_them(tmp_path: Path) -> None:
    d = tmp_path / "v"
    fake_venv(d)
    for i in range(8):
        (d / f"user-{i}.txt").write_text("mine")
    with pytest.raises(RestoreError) as err:
        target(str(d), force=False)
    line = str(err.value)
    assert "\n" not in line and "user-0.txt" in line and "(and 3 more)" in line
    assert "--force" in line
    assert target(str(d), force=True).final == str(d)
    with pytest.raises(RestoreError, match="not a directory"):
        target(str(d / "user-0.txt"), force=True)
    with pytest.raises(RestoreError, match="not a path"):
        target("a\0b", force=True)


def test_commit_replaces_the_venv_and_keeps_what_force_allowed(tmp_path: Path) -> None:
    d = tmp_path / "v"
    fake_venv(d)
    (d / "NOTES.md").write_text("mine")
    s = new_swap(d, force=True)
    s.swap_in()
    assert (d / "lib" / "python3.11" / "site-packages" / "new.py").exists()
    assert (d / "bin" / "activate").read_text() == f'VIRTUAL_ENV="{d}"\n'
    assert (d / "bin" / "pip").read_text() == f"#!{d}/bin/python\n"
    assert f"venv {d}\n" in (d / "pyvenv.cfg").read_text()
    held = Path(s.target.run) / "old" / "lib" / "python3.11" / "site-packages" / "old.py"
    assert held.exists()  # the old venv is kept until the caller commits
    s.commit()
    assert (d / "NOTES.md").read_text() == "mine"
    assert not (d / "lib" / "python3.11" / "site-packages" / "old.py").exists()
    assert leftovers(d) == []


def test_roll_back_puts_the_old_venv_back_exactly(tmp_path: Path) -> None:
    d = tmp_path / "v"
    fake_venv(d)
    (d / "NOTES.md").write_text("mine")
    before = tree(d)
    notes: list[str] = []
    s = new_swap(d, force=True, notes=notes)
    s.swap_in()
    s.roll_back("the new venv did not verify")
    assert tree(d) == before
    assert notes[-1].endswith(f"did not verify: {d} is as it was")
    # a DIR that did not exist is removed again, with the parents restore made
    fresh = tmp_path / "a" / "b"
    s = new_swap(fresh)
    s.swap_in()
    s.roll_back("the new venv did not verify")
    assert not (tmp_path / "a").exists()


def test_a_foreign_entry_the_new_venv_also_has_stops_the_swap(tmp_path: Path) -> None:
    d = tmp_path / "v"
    fake_venv(d)
    (d / "etc").mkdir()  # a user's, or a package's installed by pip, not by restore
    (d / ".gitignore").write_text("build/\n")  # a project's: uv's own is dropped instead
    before = tree(d)
    s = new_swap(d, force=True)
    (Path(s.target.build) / "etc").mkdir()
    (Path(s.target.build) / ".gitignore").write_text("*")
    with pytest.raises(RestoreError, match=r"etc in .* is not the old venv's"):
        s.swap_in()
    s.roll_back()
    assert tree(d) == before
    # without the clash, uv's .gitignore is dropped and the project's stays
    (d / "etc").rmdir()
    s = new_swap(d, force=True)
    (Path(s.target.build) / ".gitignore").write_text("*")
    (Path(s.target.build) / "etc").mkdir()  # a package's data files (etc/jupyter)
    s.swap_in()
    s.commit()
    assert (d / ".gitignore").read_text() == "build/\n"
    # restore names what it brought beyond a venv's own entries: replaced next time
    assert "envlock-entries = etc" in (d / "pyvenv.cfg").read_text()
    assert "etc" in entries(str(d))[0]


def test_a_second_restore_of_the_same_dir_waits_its_turn(tmp_path: Path) -> None:
    d = tmp_path / "v"
    fake_venv(d)
    first = new_swap(d)
    with pytest.raises(RestoreError, match="another envlock restore is working on"):
        Swap.begin(target(str(d), force=False, pid=os.getpid() + 1), [].append)
    first.roll_back()
    assert leftovers(d) == []


def _killed(final: Path, steps: Callable[[Swap], None]) -> int:
    """Run `steps` in a child that is then killed with SIGKILL: the pid it had."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover (the child)
        try:
            s = new_swap(final, force=True)
            steps(s)
        finally:
            os.kill(os.getpid(), signal.SIGKILL)
    os.waitpid(pid, 0)
    return pid


@pytest.mark.parametrize("phase", ["build", "swap", "commit"])
def test_what_a_killed_run_left_is_undone_by_the_next(tmp_path: Path, phase: str) -> None:
    d = tmp_path / "v"
    fake_venv(d)
    (d / "NOTES.md").write_text("mine")
    before = tree(d)

    def steps(s: Swap) -> None:
        if phase != "build":
            s.swap_in()
        if phase == "commit":
            marker.write_marker(s.target.run, "commit", s.moved_in)
            shutil.rmtree(Path(s.target.run) / "old" / "lib")  # killed mid-removal

    pid = _killed(d, steps)
    assert leftovers(d) == [marker.FIXED_RUN]
    mark = marker.read_marker(str(d / marker.FIXED_RUN))
    assert mark is not None and mark.pid == pid
    notes: list[str] = []
    sweep(str(d), notes.append)
    assert leftovers(d) == []
    assert any(f"killed restore (pid {pid})" in n for n in notes), notes
    if phase == "commit":  # it had verified: the new venv stays
        assert (d / "lib" / "python3.11" / "site-packages" / "new.py").exists()
        assert (d / "NOTES.md").read_text() == "mine"
    else:  # it had not: the old one goes back
        assert tree(d) == before


def _built_at(final: Path) -> str:
    """Where a restore in another process builds DIR's new venv (begin, then commit)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover (the child)
        try:
            s = new_swap(final)
            os.write(write, s.target.build.encode())
            s.swap_in()
            s.commit()
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as fh:
        built = fh.read().decode()
    os.waitpid(pid, 0)
    return built


def test_every_restore_of_dir_builds_its_venv_at_one_path(tmp_path: Path) -> None:
    """uv's interpreter cache is keyed by the interpreter's path: a new venv at a path of
    its own each run costs `uv pip sync` a Python start to query it."""
    d = tmp_path / "v"
    first, second = _built_at(d), _built_at(d)
    assert first == second == str(d / marker.FIXED_RUN / "venv")
    assert (d / "lib" / "python3.11" / "site-packages" / "new.py").exists()
    assert leftovers(d) == []


def test_a_taken_working_directory_is_worked_beside(tmp_path: Path) -> None:
    """A live run's fixed directory (a filesystem without flock), or a look-alike of it
    that is not restore's: this run works in one named for its pid, and leaves it."""
    d = tmp_path / "v"
    fake_venv(d)
    fixed = d / marker.FIXED_RUN
    with subprocess.Popen(["sleep", "60"]) as child:
        try:
            fixed.mkdir()
            mark = marker.Marker(
                pid=child.pid,
                started=marker.started_at(child.pid),
                boot=marker.boot_id(),
                phase="build",
            )
            (fixed / MARKER).write_text(mark.to_json())
            notes: list[str] = []
            s = new_swap(d, notes=notes)
            assert s.target.run == str(d / f".envlock-restore-{os.getpid()}")
            assert "running restore" in notes[0]
            s.swap_in()
            s.commit()
            assert (d / "lib" / "python3.11" / "site-packages" / "new.py").exists()
            assert leftovers(d) == [marker.FIXED_RUN]
        finally:
            child.kill()
    sweep(str(d), [].append)  # its process is gone: what it left goes
    assert leftovers(d) == []
    # a look-alike (no valid marker: a pid of 0, none at all) is named, never removed
    for doc in ({"envlock-restore": 1, "pid": 0, "phase": "build", "moved-in": []}, None):
        fixed.mkdir()
        (fixed / "data").write_text("mine")
        if doc is not None:
            (fixed / MARKER).write_text(json.dumps(doc))
        notes = []
        s = new_swap(d, force=True, notes=notes)
        assert s.target.run == str(d / f".envlock-restore-{os.getpid()}")
        assert any(str(fixed) in n and "no marker" in n for n in notes), notes
        s.roll_back()
        assert (fixed / "data").read_text() == "mine"
        assert marker.FIXED_RUN in entries(str(d))[1]  # foreign to the refusal
        shutil.rmtree(fixed)


def test_a_reused_pid_is_not_a_live_run(tmp_path: Path) -> None:
    """Containers reuse pids: a dead run's marker may name this very pid."""
    d = tmp_path / "v"
    fake_venv(d)
    before = tree(d)
    run = d / f".envlock-restore-{os.getpid()}"
    run.mkdir()
    (run / "venv").mkdir()
    mark = marker.Marker(pid=os.getpid(), started="1", boot=marker.boot_id(), phase="build")
    (run / MARKER).write_text(mark.to_json())
    s = new_swap(d)  # sweeps it (another start time), then makes its own
    s.roll_back()
    assert tree(d) == before


def test_look_alikes_are_named_never_removed(tmp_path: Path) -> None:
    d = tmp_path / "v"
    fake_venv(d)
    mine = d / ".envlock-restore-999999"  # a user's, no marker
    (mine / "data").mkdir(parents=True)
    bad = d / ".envlock-restore-999998"  # a marker naming another pid
    bad.mkdir()
    (bad / MARKER).write_text(json.dumps({"envlock-restore": 1, "pid": 1, "phase": "build"}))
    old_style = tmp_path / ".v.envlock-new-999997"  # envlock 0.1's, beside DIR
    old_style.mkdir()
    notes: list[str] = []
    sweep(str(d), notes.append)
    assert mine.exists() and bad.exists() and old_style.exists()
    assert any(str(mine) in n and "no marker" in n for n in notes)
    assert any(str(old_style) in n and "remove it yourself" in n for n in notes)
    # and they are foreign to the refusal
    assert {mine.name, bad.name} <= set(entries(str(d))[1])


def test_a_live_runs_directory_is_left_alone(tmp_path: Path) -> None:
    d = tmp_path / "v"
    d.mkdir()
    with subprocess.Popen(["sleep", "60"]) as child:
        try:
            run = d / f".envlock-restore-{child.pid}"
            run.mkdir()
            mark = marker.Marker(
                pid=child.pid,
                started=marker.started_at(child.pid),
                boot=marker.boot_id(),
                phase="build",
            )
            (run / MARKER).write_text(mark.to_json())
            notes: list[str] = []
            sweep(str(d), notes.append)
            assert run.exists() and "running restore" in notes[0]
        finally:
            child.kill()
    sweep(str(d), [].append)
    assert not run.exists()


def test_the_temp_dir_of_a_killed_python_restore_is_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    pid = os.fork()
    if pid == 0:  # pragma: no cover (the child)
        swap.temp_run([].append)
        os.kill(os.getpid(), signal.SIGKILL)
    os.waitpid(pid, 0)
    (left,) = tmp_path.glob(f"envlock-restore-{pid}-*")
    sweep(None, [].append)
    assert not left.exists()


@contextlib.contextmanager
def _tmpfs(path: Path, *options: str) -> Iterator[None]:
    path.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", *options, "tmpfs", str(path)], capture_output=True
    )
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.decode().strip()}")
    try:
        yield
    finally:
        subprocess.run(["umount", str(path)], check=True)


def test_a_mount_point_is_swapped_inside_and_a_busy_entry_is_one_line(tmp_path: Path) -> None:
    d = tmp_path / "vol"
    with _tmpfs(d):
        fake_venv(d)
        s = new_swap(d)
        s.swap_in()
        s.commit()
        assert os.path.ismount(d) and (d / "lib/python3.11/site-packages/new.py").exists()
        # a venv entry that is itself a mount point cannot move: nothing changes
        with _tmpfs(d / "share"):
            before = tree(d)
            from envlock.install.restore import Installation, Step, install
            from envlock.lock.export import InstallPlan

            t = target(str(d), force=False)
            inst = Installation(
                installer="pip",
                python=str(d / "bin" / "python"),
                steps=(Step(argv=("mkdir", "-p", f"{t.build}/share"), what="venv"),),
                venv=t,
            )
            with pytest.raises(RestoreError) as err:
                plan = InstallPlan(pins=(), indexes=(), complete=True, hashed=False)
                install(inst, plan, header="")
            assert "Device or resource busy" in str(err.value) and "left as it was" in str(
                err.value
            )
            assert tree(d) == before and leftovers(d) == []


def test_relocate_drops_the_build_suffix_whatever_the_quoting(tmp_path: Path) -> None:
    final = '/srv/it\'s a "venv" ü'
    suffix = "/.envlock-restore-42/venv"
    build = tmp_path / "b"
    (build / "bin").mkdir(parents=True)
    forms = [
        final + suffix,
        json.dumps(final + suffix),
        "'" + (final + suffix).replace("'", "'\\''") + "'",
    ]
    (build / "bin" / "activate").write_text("\n".join(forms))
    (build / "bin" / "tool").write_bytes(b"\0ELF" + (final + suffix).encode())  # a binary
    (build / "bin" / "python").symlink_to("/usr/bin/python3")
    (build / "pyvenv.cfg").write_text(f"command = python -m venv {final}{suffix}\n")
    os.chmod(build / "bin" / "activate", 0o751)
    relocate(str(build), suffix)
    assert (build / "bin" / "activate").read_text().splitlines() == [
        final,
        json.dumps(final),
        "'" + final.replace("'", "'\\''") + "'",
    ]
    assert os.stat(build / "bin" / "activate").st_mode & 0o777 == 0o751
    assert (build / "bin" / "tool").read_bytes().endswith(suffix.encode())
    assert (build / "pyvenv.cfg").read_text() == f"command = python -m venv {final}\n"


def test_a_trampoline_the_final_path_does_not_need_becomes_a_plain_shebang(
    tmp_path: Path,
) -> None:
    """pip's /bin/sh trampoline for a long build path; DIR's own path fits a shebang."""
    final = tmp_path / "v"
    (final / "bin").mkdir(parents=True)
    (final / "bin" / "python").symlink_to(sys.executable)
    suffix = "/.envlock-restore-7/venv" + "/x" * 60  # a build path over 127 bytes
    build = tmp_path / "build"
    (build / "bin").mkdir(parents=True)
    body = "import sys\nprint('ran', sys.argv[1])\n"
    script = build / "bin" / "tool"
    script.write_text(f"#!/bin/sh\n'''exec' {final}{suffix}/bin/python \"$0\" \"$@\"\n' '''{body}")
    script.chmod(0o755)
    relocate(str(build), suffix)
    assert script.read_text() == f"#!{final}/bin/python\n{body}"
    assert subprocess.check_output([str(script), "x"], text=True) == "ran x\n"
    # a path that needs it keeps it: a space, or too long
    for exe in ('"/a b/bin/python"', "/" + "l" * 130 + "/bin/python", "'/a/$x/python'"):
        kept = f"#!/bin/sh\n'''exec' {exe} \"$0\" \"$@\"\n' '''{body}".encode()
        assert plain_shebang(kept) == kept
    uv = f"#!/bin/sh\n'''exec' '/a/bin/python' \"$0\" \"$@\"\n' '''\n{body}".encode()
    assert plain_shebang(uv) == f"#!/a/bin/python\n{body}".encode()


def test_a_full_disk_while_preparing_leaves_nothing(tmp_path: Path) -> None:
    vol = tmp_path / "full"
    with _tmpfs(vol, "-o", "size=64k"):
        with contextlib.suppress(OSError), open(vol / "filler", "wb") as fh:
            while True:
                fh.write(b"x" * 4096)
                fh.flush()
        with pytest.raises(RestoreError) as err:
            Swap.begin(target(str(vol / "a" / "venv"), force=False), [].append)
        assert "No space left on device" in str(err.value), err.value
        assert sorted(os.listdir(vol)) == ["filler"]


def test_a_build_marker_beside_a_held_old_venv_is_stale_and_nothing_is_removed(
    tmp_path: Path,
) -> None:
    """The markers are not fsynced: after a power loss the swap's marker may be lost
    while its renames were not, leaving the build marker beside RUN/old (only a swap
    makes it). Then the marker is not trusted: the old venv is named, never removed."""
    d = tmp_path / "v"
    fake_venv(d)

    def steps(s: Swap) -> None:
        s.swap_in()
        marker.write_marker(s.target.run, "build")  # the swap's marker lost

    pid = _killed(d, steps)
    held = tree(d / marker.FIXED_RUN / "old")
    assert held
    notes: list[str] = []
    sweep(str(d), notes.append)
    assert tree(d / marker.FIXED_RUN / "old") == held
    assert any(str(d / marker.FIXED_RUN) in n and "not removed" in n for n in notes), notes
    assert not any(f"killed restore (pid {pid})" in n for n in notes)


def test_a_torn_marker_is_no_marker_and_its_directory_stays(tmp_path: Path) -> None:
    """Why the markers need no fsync: whatever part of one a power loss keeps (each
    prefix of what write_marker writes, nothing at all) reads as no marker, so its
    directory is named and never removed."""
    d = tmp_path / "v"
    fake_venv(d)
    pid = _killed(d, lambda s: s.swap_in())
    run = d / marker.FIXED_RUN
    written = (run / MARKER).read_bytes()
    whole = marker.read_marker(str(run))
    assert whole is not None and whole.pid == pid and whole.phase == "swap"
    held = tree(run)
    for cut in range(len(written)):
        (run / MARKER).write_bytes(written[:cut])
        assert marker.read_marker(str(run)) is None, written[:cut]
        sweep(str(d), [].append)
        assert tree(run) == {**held, MARKER: "file:" + hashlib.sha256(written[:cut]).hexdigest()}


def test_writing_a_marker_waits_for_no_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A marker is written and renamed, never fsynced: two of restore's three markers
    come after the install, where each fsync cost 2-11 ms of the user's wait (a torn
    one is safe: the tests above)."""
    synced: list[int] = []
    monkeypatch.setattr(os, "fsync", synced.append)
    monkeypatch.setattr(os, "fdatasync", synced.append)
    run = tmp_path / ".envlock-restore-build"
    run.mkdir()
    for phase in marker.PHASES:
        marker.write_marker(str(run), phase, ["bin"])
        mark = marker.read_marker(str(run))
        assert mark is not None and mark.phase == phase and mark.pid == os.getpid()
    assert synced == []
