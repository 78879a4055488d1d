"""Which nodes differ, in the text report: hostlists compressed the way Slurm writes them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from envlock.errors import UsageError
from envlock.fleet import compress_hostlist, parse_hostlist
from tests.conftest import clean_env, run_envlock
from tests.facts_builders import edit, h100_host
from tests.fleet.nodes import OLD_DRIVER, write_fleet


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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("gpu-node-[000-003]", ["gpu-node-000", "gpu-node-001", "gpu-node-002", "gpu-node-003"]),
        ("dgx[01-03,07]", ["dgx01", "dgx02", "dgx03", "dgx07"]),
        ("node[9-11]", ["node9", "node10", "node11"]),
        ("node[08-11]", ["node08", "node09", "node10", "node11"]),
        ("login1,gpu[1-2]", ["login1", "gpu1", "gpu2"]),
        ("r[1-2]n[01-02]", ["r1n01", "r1n02", "r2n01", "r2n02"]),
        ("a[1-2].dc,b1.dc", ["a1.dc", "a2.dc", "b1.dc"]),
        ("x1, x1 ,x2", ["x1", "x2"]),
        ("solo", ["solo"]),
    ],
)
def test_parse_hostlist(text: str, expected: list[str]) -> None:
    assert parse_hostlist(text) == expected


@pytest.mark.parametrize(
    "hosts",
    [
        [f"gpu-node-{i:03d}" for i in range(64) if i not in (7, 41)],
        ["dgx01", "dgx02", "dgx03", "dgx07", "login", "node9", "node10"],
        [f"r{r}n{n:02d}" for r in range(1, 3) for n in (1, 2, 5)],
    ],
)
def test_parse_is_the_inverse_of_compress(hosts: list[str]) -> None:
    assert sorted(parse_hostlist(compress_hostlist(hosts))) == sorted(hosts)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("gpu[1-", "never closed"),
        ("gpu1]", "without '['"),
        ("gpu[[1]]", "nested"),
        ("gpu[3-1]", "backwards"),
        ("gpu[a-b]", "not a list of numbers"),
        ("gpu[1-2],,x", "empty name"),
        ("gpu node", "not a host name"),
        ("n[0-99999999]", "more than"),
        ("a[0-999]b[0-9999]", "more than"),
    ],
)
def test_parse_hostlist_refuses_malformed_lists(text: str, why: str) -> None:
    with pytest.raises(UsageError, match=re.escape(why)):
        parse_hostlist(text)


@pytest.fixture(scope="module")
def fleet64(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The issue's example: gpu-node-[000-063] from one recorded probe (host names, times,
    timings, GPU UUIDs varied), 007 and 041 on an older driver, 013 with an extra NCCL
    variable."""
    nodes = tmp_path_factory.mktemp("fleet64")
    write_fleet(
        nodes,
        64,
        {
            7: [("driver.version", OLD_DRIVER)],
            41: [("driver.version", OLD_DRIVER)],
            13: [("env.variables.NCCL_IB_DISABLE", "1")],
        },
    )
    return nodes


def test_64_nodes_one_line_per_field_names_the_outliers(fleet64: Path) -> None:
    proc = run_envlock(["fleet", "report", str(fleet64)], env=clean_env(COLUMNS="100"))
    assert proc.returncode == 1, proc.stderr
    lines = proc.stdout.splitlines()
    driver = [ln for ln in lines if "driver.version" in ln]
    nccl = [ln for ln in lines if "NCCL_IB_DISABLE" in ln]
    assert len(driver) == 1 and len(nccl) == 1, proc.stdout
    assert driver[0].index("580.65.06 on 62 nodes gpu-node-[000-006,008-040,042-063]") < driver[
        0
    ].index(f"{OLD_DRIVER} on 2 nodes gpu-node-[007,041]")
    assert "(none) on 63 nodes gpu-node-[000-012,014-063]; 1 on 1 node gpu-node-013" in nccl[0]
    # nothing else differs: UUIDs, times and timings are per node
    assert sum(" on " in ln and " nodes " in ln for ln in lines) == 2, proc.stdout


def test_64_nodes_json_keeps_the_full_lists(fleet64: Path) -> None:
    proc = run_envlock(["fleet", "report", str(fleet64), "--format", "json"])
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    (driver,) = [f for f in report["findings"] if f["field"] == "driver.version"]
    assert driver["evidence"]["hosts"][repr(OLD_DRIVER)] == ["gpu-node-007", "gpu-node-041"]
    assert len(driver["evidence"]["hosts"]["'580.65.06'"]) == 62
    assert driver["evidence"]["values"][repr(OLD_DRIVER)] == [7, 41]


def test_nodes_expected_but_silent_are_reported_missing(fleet64: Path) -> None:
    proc = run_envlock(
        [
            "fleet",
            "report",
            str(fleet64),
            "--nodes",
            "gpu-node-[000-065],login1",
            "--format",
            "json",
            "--ignore",
            "EL-FLEET-DIVERGENT",
        ]
    )
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    (missing,) = report["findings"]
    assert missing["id"] == "EL-FLEET-NODE-MISSING"
    assert missing["evidence"]["missing"] == ["gpu-node-064", "gpu-node-065", "login1"]
    assert "gpu-node-[064-065],login1" in missing["message"]
    text = run_envlock(["fleet", "report", str(fleet64), "--nodes", "gpu-node-[000-065]"]).stdout
    assert "2 of 66 expected node(s) sent no facts: gpu-node-[064-065]" in text
    whole = run_envlock(
        ["fleet", "report", str(fleet64), "--nodes", "gpu-node-[000-063]", "--format", "json"]
    )
    assert "EL-FLEET-NODE-MISSING" not in whole.stdout
    bad = run_envlock(["fleet", "report", str(fleet64), "--nodes", "gpu-node-[000-"])
    assert bad.returncode == 2 and "never closed" in bad.stderr
    assert "Traceback" not in bad.stderr


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ('"hostname": "gpu-node-002"', '"hostname": 42', "system.hostname"),
        ('"collected_at": "', '"collected_at": 7, "x": "', "meta.collected_at"),
        ('"import_seconds": ', '"import_seconds": "fast", "y": ', "torch.live.import_seconds"),
        ('"durations_ms": {', '"durations_ms": {"z": "slow", ', "meta.durations_ms.z"),
        ('"uuid": "GPU-', '"uuid": "GPU-\\u0000-', None),  # a valid value: still read
        ('"uuid": "GPU-', '"uuid": "GPU-', "not valid JSON"),
        ('"uuid": "GPU-', '"uuid": ["GPU-"], "u": "', "driver.gpus[0].uuid"),
    ],
)
def test_a_file_that_reuses_a_summary_is_still_checked(
    tmp_path: Path, old: str, new: str, where: str | None
) -> None:
    """Files equal but for per-node values share one summary; a bad per-node value in one
    of them is still refused, naming the file and the field."""
    write_fleet(tmp_path, 3)
    path = tmp_path / "gpu-node-002.json"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    proc = run_envlock(["fleet", "report", str(tmp_path), "--format", "json"])
    report = json.loads(proc.stdout)
    if where is None:
        assert proc.returncode == 0 and report["findings"] == [], proc.stdout
        return
    (bad,) = report["findings"]
    assert bad["id"] == "EL-FLEET-NODE-UNREADABLE"
    assert bad["message"].startswith("gpu-node-002.json:") and where in bad["message"]
    assert report["details"]["nodes"] == ["gpu-node-000", "gpu-node-001"]


@pytest.mark.parametrize("name", ["hostname", "uuid", "seconds"])
def test_a_package_named_like_a_per_node_value_still_counts(tmp_path: Path, name: str) -> None:
    """A package called `hostname` (it exists on PyPI) differs between two nodes: the nodes
    differ, although the value sits under a per-node key name."""
    drift = {i: [(f"packages.distributions.{name}", f"1.{i}")] for i in range(3)}
    write_fleet(tmp_path, 3, {0: drift[0], 1: drift[0], 2: drift[2]})
    proc = run_envlock(["fleet", "report", str(tmp_path), "--format", "json"])
    assert proc.returncode == 1, proc.stdout
    (finding,) = json.loads(proc.stdout)["findings"]
    assert finding["field"] == f"packages.{name}"
    assert finding["evidence"]["hosts"]["'1.2'"] == ["gpu-node-002"]
