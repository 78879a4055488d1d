"""A large fleet's files over two processes (issue 23 item 3: 10,000 nodes, another numpy
on each, <= 3 s on 2 cores): the second half summarised by a forked child and merged,
giving the report one process gives, whatever the child does."""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from envlock import api
from envlock.fleet import files, split
from tests.fleet.nodes import OLD_DRIVER, write_fleet

NODES = 48


@pytest.fixture(autouse=True)
def _no_other_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """The split forks only where no other thread runs; a pytest-xdist worker has its
    own (execnet's), which would keep every test here to one process: the check sees
    this test's thread alone, as a CLI run's would."""
    monkeypatch.setattr(split, "threading", SimpleNamespace(active_count=lambda: 1))


def _fleet(directory: Path) -> Path:
    """Drift in both halves: an old driver (a doctor error) on a node of each, a package
    on one node each past the middle, another numpy on a run of nodes, a node whose
    host name another node has, and an unreadable file in each half."""
    drift: dict[int, list[tuple[str, Any]]] = {
        3: [("driver.version", OLD_DRIVER)],
        40: [("driver.version", OLD_DRIVER)],
        30: [("system.hostname", "gpu-node-002")],  # two files, one host name
    }
    for i in range(26, 44):
        drift.setdefault(i, []).append((f"packages.distributions.only-on-{i}", "1.0"))
    for i in range(10, 34):
        drift.setdefault(i, []).append(("packages.distributions.numpy", f"2.{i}.0"))
    write_fleet(directory, NODES, drift)
    (directory / "gpu-node-005.json").write_text("{not json")
    (directory / "gpu-node-045.json").write_text('{"facts_version": 1, "driver": 7}')
    return directory


def _report(directory: Path) -> dict[str, Any]:
    report = api.fleet_report(
        str(directory), None, scope="full", ignore=(), strict=False, nodes="gpu-node-[000-049]"
    )
    doc: dict[str, Any] = json.loads(json.dumps(report.to_dict()))
    return doc


def _pids(monkeypatch: pytest.MonkeyPatch, record: Path) -> None:
    """Each file's summarizing process appended to `record` (a fork keeps the patch)."""
    add = files.NodeSummarizer.add_file

    def add_file(self: files.NodeSummarizer, *args: Any) -> str:
        with record.open("a") as out:
            out.write(f"{os.getpid()}\n")
        return add(self, *args)

    monkeypatch.setattr(files.NodeSummarizer, "add_file", add_file)


def test_a_large_fleet_is_read_by_two_processes_as_by_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The child's first node differs from this process's: its kinds are added as fields."""
    fleet = _fleet(tmp_path / "fleet")
    one = _report(fleet)  # below SPLIT_FROM: this process reads every file
    monkeypatch.setattr(split, "SPLIT_FROM", 10)
    record = tmp_path / "pids"
    _pids(monkeypatch, record)
    two = _report(fleet)
    pids = record.read_text().split()
    assert len(pids) == NODES and len(set(pids)) == 2  # half the files in a child
    assert pids.count(str(os.getpid())) == NODES // 2
    assert two == one
    ids = [f["id"] for f in two["findings"]]
    assert ids.count("EL-FLEET-NODE-UNREADABLE") == 2 and "EL-DRIVER-TOO-OLD" in ids
    assert "EL-FLEET-NODE-MISSING" in ids
    assert "gpu-node-002 (gpu-node-030.json)" in two["details"]["nodes"]


def test_halves_whose_first_nodes_agree_merge_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both halves start with the same kind of node (the child's deltas are this table's),
    a field of the first kind absent on a node of the second half."""
    drift: dict[int, list[tuple[str, Any]]] = {i: [("driver.version", OLD_DRIVER)] for i in (7, 30)}
    drift |= {i: [("packages.distributions.numpy", f"2.{i}.0")] for i in range(33, 40)}
    drift[41] = [("packages.distributions.numpy", None)]
    write_fleet(tmp_path / "fleet", NODES, drift)
    one = _report(tmp_path / "fleet")
    monkeypatch.setattr(split, "SPLIT_FROM", 10)
    assert _report(tmp_path / "fleet") == one


@pytest.mark.parametrize("how", ["raises", "exits", "killed", "garbage"])
def test_a_child_that_fails_costs_nothing_but_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """The child raises, exits early, is killed or writes what does not load: this
    process reads its half, and the report is the same."""
    import pickle
    import signal

    fleet = _fleet(tmp_path / "fleet")
    one = _report(fleet)
    monkeypatch.setattr(split, "SPLIT_FROM", 10)
    parent = os.getpid()
    read = files._Reader.read

    def failing(self: files._Reader, *args: Any, **kwargs: Any) -> split.Part:
        if os.getpid() != parent:
            if how == "raises":
                raise RuntimeError("a bug in the child")
            if how == "exits":
                os._exit(0)
            if how == "killed":
                os.kill(os.getpid(), signal.SIGKILL)
        return read(self, *args, **kwargs)

    monkeypatch.setattr(files._Reader, "read", failing)
    if how == "garbage":
        monkeypatch.setattr(pickle, "dumps", lambda *a, **k: b"\x80\x05not a pickle")
    assert _report(fleet) == one


def test_small_fleets_and_threads_stay_in_one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    assert not split.worth_it(split.SPLIT_FROM - 1)
    # a progress bar's thread
    monkeypatch.setattr(split, "threading", SimpleNamespace(active_count=lambda: 2))
    assert not split.worth_it(10**6)


def test_an_error_here_ends_the_child(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """This process fails while the child reads (a bug, ^C): the child is killed and
    reaped, not left running or a zombie, and the error goes on up."""
    fleet = _fleet(tmp_path / "fleet")
    monkeypatch.setattr(split, "SPLIT_FROM", 10)
    children: list[int] = []
    init = split.Child.__init__

    def child(self: split.Child, work: Any) -> None:
        init(self, work)
        children.append(self.pid)

    parent = os.getpid()
    read = files._Reader.read

    def interrupted(self: files._Reader, names: list[str], *args: Any, **kw: Any) -> split.Part:
        if os.getpid() == parent and len(names) > 1:  # after the fork
            raise KeyboardInterrupt
        return read(self, names, *args, **kw)

    monkeypatch.setattr(split.Child, "__init__", child)
    monkeypatch.setattr(files._Reader, "read", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _report(fleet)
    (pid,) = children
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def test_the_child_does_not_run_the_doctor_again_for_what_was_known_at_the_fork(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first node is read before the fork: the child knows its doctor's errors. The
    old driver on a node of each half is a run in each process (found after the fork)."""
    import envlock.checks

    fleet = _fleet(tmp_path / "fleet")
    monkeypatch.setattr(split, "SPLIT_FROM", 10)
    record = tmp_path / "runs"
    run_checks = envlock.checks.run_checks

    def counted(*args: Any, **kwargs: Any) -> Any:
        with record.open("a") as out:
            out.write(f"{os.getpid()}\n")
        return run_checks(*args, **kwargs)

    monkeypatch.setattr(envlock.checks, "run_checks", counted)
    _report(fleet)
    runs = record.read_text().split()
    assert len(runs) == 3 and runs.count(str(os.getpid())) == 2
