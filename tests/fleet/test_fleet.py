"""Fleet verification: real torchrun, real gloo rendezvous, 4 CPU ranks on this machine."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from envlock.facts import Facts
from envlock.fleet import compare_ranks, summarize
from tests.conftest import clean_env, run_envlock
from tests.facts_builders import cuda_venv, h100_host

pytestmark = pytest.mark.venv


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def fleet_lock(cpu_python: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    lock = tmp_path_factory.mktemp("fleet") / "envlock.lock.toml"
    proc = run_envlock(["lock", "--no-torch-live", "-o", str(lock)], python=cpu_python)
    assert proc.returncode == 0, proc.stderr
    return lock


def _torchrun(
    cpu_python: Path,
    args: list[str],
    tmp: Path,
    *,
    wrapper: str | None = None,
    extra_env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    torchrun = cpu_python.parent / "torchrun"
    port = _free_port()
    base = [
        str(torchrun),
        "--nnodes",
        "1",
        "--nproc-per-node",
        "4",
        "--master-addr",
        "127.0.0.1",
        "--master-port",
        str(port),
        # torchrun tears the group down after the first non-zero exit; ranks leave
        # envlock's last barrier together, and a 1 s monitor lets them finish.
        "--monitor-interval",
        "1",
    ]
    if wrapper:
        script = tmp / "rank.sh"
        script.write_text(wrapper)
        script.chmod(0o755)
        cmd = [*base, "--no-python", str(script), *args]
    else:
        cmd = [*base, "-m", "envlock", *args]
    return subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp,
        env=clean_env(**(extra_env or {})),
        check=False,
    )


def _rank_exit_codes(tmp: Path) -> dict[int, int]:
    """Per-rank exit codes from torchrun's error summary is not stable; read our own markers."""
    out = {}
    for p in tmp.glob("exit.*"):
        out[int(p.suffix[1:])] = int(p.read_text())
    return out


def _all_exit(tmp: Path, code: int) -> None:
    """Each of the 4 ranks' markers records `code`."""
    assert _rank_exit_codes(tmp) == dict.fromkeys(range(4), code)


def _json_report(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The JSON report in torchrun's output (rank 0 alone prints it)."""
    return dict(json.loads(proc.stdout[proc.stdout.index("{") :]))


# torchrun SIGTERMs the other ranks' process groups once one rank exits non-zero; the
# wrapper (and the rank it starts, which inherits the ignored signal) runs to its own
# verdict, so the marker records what each rank decided, not who lost the race.
WRAPPER = """#!/bin/sh
trap '' TERM
{setup}
{python} -m envlock "$@"
rc=$?
echo $rc > exit.$RANK
exit $rc
"""


def _verify_ranks(
    cpu_python: Path, lock: Path, tmp: Path, setup: str, *options: str
) -> subprocess.CompletedProcess[str]:
    """`verify LOCK --no-torch-live --distributed OPTIONS` on 4 ranks under torchrun, each
    started by WRAPPER after the shell line `setup`."""
    args = ["verify", str(lock), "--no-torch-live", "--distributed", *options]
    return _torchrun(cpu_python, args, tmp, wrapper=WRAPPER.format(setup=setup, python=cpu_python))


def test_all_ranks_agree_every_rank_exits_0(
    cpu_python: Path, fleet_lock: Path, tmp_path: Path
) -> None:
    proc = _verify_ranks(cpu_python, fleet_lock, tmp_path, "", "--format", "json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    _all_exit(tmp_path, 0)
    report = _json_report(proc)
    assert report["verdict"] == "pass" and report["details"]["world_size"] == 4


@pytest.mark.parametrize(
    ("setup", "field"),
    [
        (
            '[ "$RANK" = 2 ] && export CUBLAS_WORKSPACE_CONFIG=:16:8 || export CUBLAS_WORKSPACE_CONFIG=:4096:8',
            "env.CUBLAS_WORKSPACE_CONFIG",
        ),
        ('[ "$RANK" = 2 ] && export LD_LIBRARY_PATH=/usr/local/cuda/lib64', "env.LD_LIBRARY_PATH"),
    ],
)
@pytest.mark.slow
def test_one_rank_differs_every_rank_exits_1_and_rank_0_names_it(
    cpu_python: Path, fleet_lock: Path, tmp_path: Path, setup: str, field: str
) -> None:
    options = ("--format", "json", "--rule", "env.CUBLAS_WORKSPACE_CONFIG=ignore")
    proc = _verify_ranks(cpu_python, fleet_lock, tmp_path, setup, *options)
    assert proc.returncode != 0
    _all_exit(tmp_path, 1)
    report = _json_report(proc)
    divergent = [
        f for f in report["findings"] if f["id"] == "EL-FLEET-DIVERGENT" and f["field"] == field
    ]
    assert divergent, report
    assert "rank 2" in divergent[0]["message"]
    assert divergent[0]["evidence"]["values"]  # which ranks hold which value


@pytest.mark.slow
def test_a_rank_that_never_starts_times_out_with_a_clear_message(
    cpu_python: Path, fleet_lock: Path, tmp_path: Path
) -> None:
    port = _free_port()
    procs = []
    started = time.monotonic()
    for rank in range(3):  # rank 3 of 4 never starts
        if rank == 1:
            # Ranks 1 and 2 start late, so rank 0 (which hosts the store) reaches its limit
            # first: they must still name the missing rank, not lose the store and crash.
            time.sleep(2)
        env = clean_env(
            RANK=str(rank), WORLD_SIZE="4", MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port)
        )
        procs.append(
            subprocess.Popen(
                [
                    str(cpu_python),
                    "-m",
                    "envlock",
                    "verify",
                    str(fleet_lock),
                    "--no-torch-live",
                    "--distributed",
                    "--fleet-timeout",
                    "6",
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
        )
    results = [p.communicate(timeout=120) for p in procs]
    elapsed = time.monotonic() - started
    assert [p.returncode for p in procs] == [3, 3, 3]
    for _out, err in results:
        assert "3 of 4 ranks joined; missing rank(s) 3" in err
        assert "Traceback" not in err
    assert elapsed < 6 + 30  # the limit plus start-up of three interpreters importing torch


def test_compare_ranks_from_recorded_facts() -> None:
    """Unit level: two 'nodes' from recordings, one with the H100 driver, one without."""
    a, b = h100_host(), cuda_venv()
    s = [
        summarize(0, "node-a", a, [], "full"),
        summarize(1, "node-a", a, [], "full"),
        summarize(2, "node-b", b, [], "full"),
    ]
    findings = {f.field: f for f in compare_ranks(s)}
    assert "driver.version" in findings
    assert "node-b: rank 2" in findings["driver.version"].message
    assert compare_ranks(s[:2]) == []
    soft = [summarize(i, "n", f, [], "software") for i, f in enumerate((a, b))]
    assert compare_ranks(soft) == []


def test_values_no_lock_may_hold_are_still_compared_across_nodes() -> None:
    """Two nodes whose numpy versions hold line breaks (a hostile or broken install): a
    lock drops such a value, but the fleet compares what each node observed, so they
    differ instead of both looking like 'no numpy'."""
    import dataclasses

    base = h100_host()

    def with_numpy(version: str) -> Facts:
        dists = {**base.packages.distributions, "numpy": version}
        return dataclasses.replace(
            base, packages=dataclasses.replace(base.packages, distributions=dists)
        )

    s = [
        summarize(0, "node-a", with_numpy("2.0\n-r /etc/a"), [], "full"),
        summarize(1, "node-b", with_numpy("2.0\n-r /etc/b"), [], "full"),
    ]
    assert "packages.numpy" in {f.field for f in compare_ranks(s)}
    same = [summarize(i, f"n{i}", with_numpy("2.0\n-r /etc/a"), [], "full") for i in (0, 1)]
    assert compare_ranks(same) == []


def test_fleet_report_dir(tmp_path: Path) -> None:
    nodes = tmp_path / "nodes"
    nodes.mkdir()
    for name, facts in (("a", h100_host()), ("b", h100_host()), ("c", cuda_venv())):
        (nodes / f"{name}.json").write_text(facts.to_json())
    proc = run_envlock(["fleet", "report", str(nodes), "--format", "json"])
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    fields = {f.get("field") for f in report["findings"]}
    assert {"driver.version", "hardware.gpu-count"} <= fields
    # node c (the CUDA venv's container, no GPU devices) fails the doctor, naming it
    doctor = [f for f in report["findings"] if f["id"] == "EL-CONTAINER-NO-GPU"]
    assert len(doctor) == 1 and doctor[0]["evidence"]["nodes"] == "redacted-host"
    ignored = run_envlock(
        [
            *("fleet", "report", str(nodes), "--format", "json"),
            *("--ignore", "EL-FLEET-DIVERGENT", "--ignore", "EL-CONTAINER-NO-GPU"),
        ]
    )
    assert ignored.returncode == 0, ignored.stdout
    assert json.loads(ignored.stdout)["findings"] == []
    bad = run_envlock(["fleet", "report", str(nodes), "--ignore", "EL-FLEET-NOPE"])
    assert bad.returncode == 2 and "EL-FLEET-NOPE" in bad.stderr
    (nodes / "c.json").unlink()
    proc = run_envlock(["fleet", "report", str(nodes)])
    assert proc.returncode == 0, proc.stdout
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = run_envlock(["fleet", "report", str(empty)])
    assert proc.returncode == 3 and "no *.json facts files" in proc.stderr


def test_fleet_report_names_an_unreadable_node_and_compares_the_rest(tmp_path: Path) -> None:
    nodes = tmp_path / "nodes"
    nodes.mkdir()
    for name in ("a", "b"):
        (nodes / f"{name}.json").write_text(h100_host().to_json())
    (nodes / "c.json").write_text('{"facts_version": 1, "meta": ')  # cut off mid-write
    os.mkfifo(nodes / "d.json")
    proc = run_envlock(["fleet", "report", str(nodes), "--format", "json"], timeout=60)
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    bad = sorted(f["message"].split(":")[0] for f in report["findings"])
    assert bad == ["c.json", "d.json"]
    assert {f["id"] for f in report["findings"]} == {"EL-FLEET-NODE-UNREADABLE"}
    assert len(report["details"]["nodes"]) == 2
    ok = run_envlock(
        ["fleet", "report", str(nodes), "--ignore", "EL-FLEET-NODE-UNREADABLE"], timeout=60
    )
    assert ok.returncode == 0, ok.stdout


def test_facts_roundtrip_for_fleet_files() -> None:
    f = h100_host()
    assert Facts.from_json(f.to_json()) == f
