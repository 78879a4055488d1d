"""`verify --distributed --smoke`: one all-reduce on the job's backend before training.

Real torchrun, 4 gloo ranks on this machine (the torch-cpu venv), one of them with a
GLOO_SOCKET_IFNAME naming an interface this machine does not have: the launch stops
within the smoke limit, every rank exits 1, and rank 0's report names that rank.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_envlock
from tests.fleet.test_fleet import _all_exit, _json_report, _verify_ranks
from tests.fleet.test_fleet import fleet_lock as fleet_lock  # the module's lock fixture

pytestmark = pytest.mark.venv
SMOKE_S = 10
SMOKE = ("--smoke", "--smoke-timeout", str(SMOKE_S))


@pytest.mark.slow
def test_a_rank_with_a_missing_interface_stops_the_launch_named(
    cpu_python: Path, fleet_lock: Path, tmp_path: Path
) -> None:
    setup = '[ "$RANK" = 3 ] && export GLOO_SOCKET_IFNAME=envlock-nosuch0'
    proc = _verify_ranks(cpu_python, fleet_lock, tmp_path, setup, *SMOKE, "--format", "json")
    assert proc.returncode != 0
    _all_exit(tmp_path, 1)
    report = _json_report(proc)
    smoke = [f for f in report["findings"] if f["id"] == "EL-FLEET-SMOKE-FAILED"]
    failed = [f for f in smoke if f["evidence"].get("rank") == 3]
    assert len(failed) == 1, smoke
    assert "rank 3 on " in failed[0]["message"]
    assert "GLOO_SOCKET_IFNAME=envlock-nosuch0" in failed[0]["message"]
    assert "envlock-nosuch0" in failed[0]["message"].split("all-reduce:")[1]  # gloo's own error
    waiting = [f for f in smoke if f is not failed[0]]
    assert [f["evidence"]["ranks"] for f in waiting] == [[0, 1, 2]]
    assert report["details"]["smoke"] == "failed"
    # stopped within its limit (plus the grace the ranks give each other to report)
    assert report["details"]["smoke_seconds"] <= SMOKE_S + 6
    assert "internal error" not in proc.stderr  # (torchrun prints its own traceback)


@pytest.mark.slow
def test_a_healthy_launch_passes_the_smoke_test_and_rank_0_writes_html(
    cpu_python: Path, fleet_lock: Path, tmp_path: Path
) -> None:
    setup = "export GLOO_SOCKET_IFNAME=lo"
    proc = _verify_ranks(cpu_python, fleet_lock, tmp_path, setup, *SMOKE, "--format", "html")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    _all_exit(tmp_path, 0)
    page = proc.stdout[proc.stdout.index("<!DOCTYPE html>") :]
    assert page.count("<!DOCTYPE html>") == 1  # rank 0 alone writes the page
    assert "PASS" in page and "verify --distributed" in page and "(4 ranks)" in page


def test_smoke_needs_distributed(fleet_lock: Path) -> None:
    proc = run_envlock(["verify", str(fleet_lock), "--smoke"])
    assert proc.returncode == 2 and "--smoke runs under torchrun with --distributed" in proc.stderr
