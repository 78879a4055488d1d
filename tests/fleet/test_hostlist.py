"""Which nodes differ, in the text report: hostlists compressed the way Slurm writes them."""

from __future__ import annotations

from pathlib import Path

import pytest

from envlock.fleet import compress_hostlist
from tests.conftest import run_envlock
from tests.facts_builders import edit, h100_host


@pytest.mark.parametrize(
    ("hosts", "expected"),
    [
        (["gpu-node-041", "gpu-node-007"], "gpu-node-[007,041]"),
        ([f"gpu-node-{i:03d}" for i in (1, 2, 3, 5, 6, 9)], "gpu-node-[001-003,005-006,009]"),
        (["node9", "node10", "node11"], "node[9-11]"),
        (["node09", "node10"], "node[09-10]"),
        (["node1"], "node1"),
        (["node1", "node1", "node2"], "node[1-2]"),
        (["a1.dc", "a2.dc", "b1.dc"], "a[1-2].dc,b1.dc"),
        (["login", "gpu1", "gpu2"], "gpu[1-2],login"),
        (["rack1-n3", "rack1-n4", "rack2-n3"], "rack1-n[3-4],rack2-n3"),
        ([], ""),
    ],
)
def test_compress_hostlist(hosts: list[str], expected: str) -> None:
    assert compress_hostlist(hosts) == expected


def test_text_fleet_report_names_the_nodes_per_value(tmp_path: Path) -> None:
    """64 nodes, two on an older driver: the text report says which, and how many hold each."""
    base = h100_host()
    nodes = tmp_path / "nodes"
    nodes.mkdir()
    for i in range(1, 65):
        facts = edit(base, "system.hostname", f"gpu-node-{i:03d}")
        if i in (7, 41):
            facts = edit(facts, "driver.version", "570.86.15")
        (nodes / f"gpu-node-{i:03d}.json").write_text(facts.to_json())
    assert base.driver.version != "570.86.15"
    proc = run_envlock(["fleet", "report", str(nodes)])
    assert proc.returncode == 1, proc.stderr
    out = proc.stdout
    row = next(ln for ln in out.splitlines() if "driver.version" in ln)
    assert "570.86.15 on 2 nodes gpu-node-[007,041]" in row
    assert f"{base.driver.version} on 62 nodes gpu-node-[001-006,008-040,042-064]" in row
