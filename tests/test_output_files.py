"""-o FILE on every writer (lock, export, report, doctor/verify/fleet report): atomic,
regular files only, and a committed symlink is followed only to a file in the link's own
directory. `envlock.lock.toml -> /etc/cron.d/x`, run as root in CI, must not write there."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from envlock.errors import LockError
from envlock.lock import write_lock
from envlock.safeio import UnwritableFile, write_atomic
from tests.conftest import FIXTURES, run_envlock

FACTS = FIXTURES / "facts.cuda-venv+h100-driver-580-replayed.json"


def _refused(proc: subprocess.CompletedProcess[str], outside: Path) -> None:
    assert proc.returncode == 3, (proc.returncode, proc.stderr)
    assert "symlink" in proc.stderr and "outside" in proc.stderr
    # progress lines ("envlock fleet report: reading the facts files ...") may come first;
    # what went wrong is one line
    errors = [ln for ln in proc.stderr.strip().splitlines() if not ln.startswith("envlock fleet")]
    assert len(errors) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert not outside.exists() or outside.read_text() == "keep\n"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A file outside the project directory that a hostile link points at."""
    elsewhere = tmp_path / "etc"
    elsewhere.mkdir()
    target = elsewhere / "cron-x"
    target.write_text("keep\n")
    return target


@pytest.fixture
def project(tmp_path: Path) -> Path:
    proj = tmp_path / "proj"
    proj.mkdir()
    return proj


def test_library_writer_refuses_a_link_out_of_its_directory(project: Path, outside: Path) -> None:
    link = project / "envlock.lock.toml"
    link.symlink_to(outside)
    with pytest.raises(UnwritableFile, match="outside"):
        write_atomic(link, "pwned\n")
    with pytest.raises(LockError, match=r"cannot write lock .*symlink"):
        write_lock(link, "pwned\n")
    assert outside.read_text() == "keep\n" and link.is_symlink()
    assert sorted(p.name for p in project.iterdir()) == ["envlock.lock.toml"]  # no temp left


def test_relative_and_chained_links_out_are_refused(project: Path, outside: Path) -> None:
    (project / "hop").symlink_to(os.path.relpath(outside, project))
    link = project / "envlock.lock.toml"
    link.symlink_to("hop")  # inside, but it goes on out of the directory
    with pytest.raises(UnwritableFile, match="outside"):
        write_atomic(link, "pwned\n")
    assert outside.read_text() == "keep\n"


def test_a_dangling_link_out_cannot_create_a_file(project: Path, outside: Path) -> None:
    planted = outside.parent / "new-cron-job"
    link = project / "envlock.lock.toml"
    link.symlink_to(planted)
    with pytest.raises(UnwritableFile, match="outside"):
        write_atomic(link, "pwned\n")
    assert not planted.exists()


def test_links_inside_the_directory_are_followed(project: Path) -> None:
    (project / "locks").mkdir()
    real = project / "locks" / "cu126.lock.toml"
    real.write_text("old\n")
    link = project / "envlock.lock.toml"
    link.symlink_to("locks/cu126.lock.toml")
    write_atomic(link, "new\n")
    assert link.is_symlink() and real.read_text() == "new\n"
    dangling = project / "report.html"
    dangling.symlink_to("locks/report.html")  # not there yet: created where it points
    write_atomic(dangling, "<html>\n")
    assert (project / "locks" / "report.html").read_text() == "<html>\n"


def test_lock_and_export_cli_refuse_a_link_out(project: Path, outside: Path) -> None:
    link = project / "envlock.lock.toml"
    link.symlink_to(outside)
    _refused(run_envlock(["lock", "--facts", str(FACTS), "-o", str(link)], cwd=project), outside)
    lock = project / "real.lock.toml"
    proc = run_envlock(["lock", "--facts", str(FACTS), "-o", str(lock)], cwd=project)
    assert proc.returncode == 0, proc.stderr
    req = project / "requirements.txt"
    req.symlink_to(outside)
    _refused(run_envlock(["export", str(lock), "-o", str(req)], cwd=project), outside)


@pytest.mark.parametrize(
    "args",
    [
        ["report", "--facts", str(FACTS)],
        ["doctor", "--facts", str(FACTS), "--format", "html"],
        ["verify", "LOCK", "--facts", str(FACTS), "--format", "junit"],
    ],
    ids=["report", "doctor-html", "verify-junit"],
)
def test_report_writers_write_files_and_refuse_links_out(
    args: list[str], project: Path, outside: Path
) -> None:
    lock = project / "envlock.lock.toml"
    assert run_envlock(["lock", "--facts", str(FACTS), "-o", str(lock)]).returncode == 0
    args = [str(lock) if a == "LOCK" else a for a in args]
    out = project / "out.txt"
    proc = run_envlock([*args, "-o", str(out)], cwd=project)
    assert proc.returncode in (0, 1), proc.stderr
    assert proc.stdout == "" and out.stat().st_size > 0
    assert f"wrote {out}" in proc.stderr
    link = project / "link.txt"
    link.symlink_to(outside)
    _refused(run_envlock([*args, "-o", str(link)], cwd=project), outside)


def test_fleet_report_html_to_a_file(project: Path, outside: Path) -> None:
    nodes = project / "nodes"
    nodes.mkdir()
    data = json.loads(FACTS.read_text())
    for name in ("gpu-node-001", "gpu-node-002"):
        (nodes / f"{name}.json").write_text(json.dumps(data))
    out = project / "fleet.html"
    proc = run_envlock(["fleet", "report", str(nodes), "--format", "html", "-o", str(out)])
    assert proc.returncode == 0, proc.stderr
    assert out.read_text().lstrip().lower().startswith("<!doctype html")
    link = project / "fleet-link.html"
    link.symlink_to(outside)
    _refused(run_envlock(["fleet", "report", str(nodes), "-o", str(link)]), outside)


def test_o_to_a_device_is_refused(project: Path) -> None:
    proc = run_envlock(["doctor", "--facts", str(FACTS), "-o", "/dev/null"])
    assert proc.returncode == 3 and "regular file" in proc.stderr
    assert Path("/dev/null").is_char_device()
