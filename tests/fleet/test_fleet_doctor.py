"""fleet report runs the doctor on each kind of node (issue 21 item 11): a node whose
driver is too old for its torch is an error naming that node, not only a difference.
Nodes: the recorded H100 probe (torch 2.14.1 cu130, driver 580.65.06), one node edited
to NVIDIA's older R570 driver."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_envlock
from tests.fleet.nodes import OLD_DRIVER, write_fleet


def test_a_node_whose_driver_is_too_old_is_an_error_naming_it(tmp_path: Path) -> None:
    nodes = tmp_path / "nodes"
    write_fleet(nodes, 8, {3: [("driver.version", OLD_DRIVER), ("driver.cuda_version", "12.8")]})
    proc = run_envlock(["fleet", "report", str(nodes), "--format", "json"])
    assert proc.returncode == 1, proc.stdout + proc.stderr
    found = [f for f in json.loads(proc.stdout)["findings"] if f["id"] == "EL-DRIVER-TOO-OLD"]
    assert len(found) == 1, found
    (f,) = found
    assert f["severity"] == "error"
    assert "gpu-node-003" in f["message"] and "gpu-node-000" not in f["message"]
    assert f["evidence"]["nodes"] == "gpu-node-003"
    text = run_envlock(["fleet", "report", str(nodes)]).stdout
    assert "EL-DRIVER-TOO-OLD" in text and "gpu-node-003" in text


def test_healthy_identical_nodes_have_no_doctor_error(tmp_path: Path) -> None:
    nodes = tmp_path / "nodes"
    write_fleet(nodes, 4)
    proc = run_envlock(["fleet", "report", str(nodes), "--format", "json"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
