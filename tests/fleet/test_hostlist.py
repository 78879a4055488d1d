"""Which nodes differ, in the text report: hostlists compressed the way Slurm writes them."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from envlock.errors import UsageError
from envlock.fleet import compress_hostlist, parse_hostlist
from tests.conftest import clean_env, run_envlock
from tests.facts_builders import edit, h100_host
from tests.fleet.nodes import OLD_DRIVER, expand_hostlist, write_fleet


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
    # the nodes' differences (the doctor's errors on each kind of node come after them)
    lines = proc.stdout.split("\nERRORS")[0].splitlines()
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
    (driver,) = [f for f in report["findings"] if f.get("field") == "driver.version"]
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
            "--ignore",
            "EL-DRIVER-TOO-OLD",  # the doctor on the two old-driver nodes
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


# ------------------------------------------- issue 19: held as ranges, never expanded
@pytest.mark.parametrize(
    "text",
    [
        "n[1-5],n[3-8]",  # overlapping ranges count once
        "a1[0-9],a[10-19]",  # a range next to digits names the same hosts as one without
        "n[08-100],n100,n[100-101]",  # padded to 2 digits, then unpadded from 10 on
        "n[007-010],n7,n10",  # n007 and n7 are two hosts
        "r[1-2]n[01-02],r1n[01-04]",  # several ranges per name, overlapping
        "a[1-2][3-4],a13",  # two ranges side by side make one number
        "n[1-2].r1,n1.r[1-2]",
        "[1-3]a,2a",
        "a" + "1" * 20 + "[1-2]",  # a 21-digit run is text, not a number
        "n[0-9,0-9,0-9],n[5-12]",  # a range repeated inside a bracket
        "x1, x1 ,x2",
    ],
)
def test_count_membership_and_missing_agree_with_expansion(text: str) -> None:
    from envlock.hostlist import Hostlist

    want = expand_hostlist(text)
    hl = Hostlist.parse(text)
    assert len(hl) == len(want)
    assert all(h in hl for h in want) and "zz9" not in hl and "n99999" not in hl
    assert sorted(parse_hostlist(text)) == sorted(want)
    seen = [*sorted(want)[::2], "stranger1"]
    missing = hl.missing(seen, listed=2)
    rest = want - set(seen)
    assert missing.count == len(rest) and set(missing.first) <= rest
    assert len(missing.first) == min(2, len(rest))
    # `where` names exactly the missing hosts, whether written from ranges or names
    assert (expand_hostlist(missing.where) if missing.where else set()) == rest
    assert hl.missing(seen).where == compress_hostlist(rest)


def _fleet_report_child(nodes_dir: Path, nodes: str, timeout: float = 60) -> dict[str, Any]:
    """api.fleet_report in a child process: (its findings, peak traced memory in MiB)."""
    code = (
        "import json, sys, tracemalloc\n"
        "from envlock import api\n"
        "tracemalloc.start()\n"
        "report = api.fleet_report(sys.argv[1], nodes=sys.stdin.read(), "
        "ignore=['EL-FLEET-DIVERGENT'])\n"
        "peak = tracemalloc.get_traced_memory()[1] / 2**20\n"
        "print(json.dumps({'peak_mib': peak, 'expected': report.details['expected_nodes'],"
        " 'findings': [{'id': f.check_id, 'message': f.message, 'evidence': f.evidence}"
        " for f in report.findings]}))\n"
    )
    try:
        proc = subprocess.run(
            [sys.executable, "-c", code, str(nodes_dir)],
            input=nodes,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=clean_env(),
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"fleet report --nodes did not finish within {timeout} s")
    assert proc.returncode == 0, proc.stderr[-2000:]
    out: dict[str, Any] = json.loads(proc.stdout)
    return out


@pytest.fixture(scope="module")
def fleet3(tmp_path_factory: pytest.TempPathFactory) -> Path:
    nodes = tmp_path_factory.mktemp("fleet3")
    write_fleet(nodes, 3)  # gpu-node-000 .. 002
    return nodes


def test_a_million_expected_nodes_are_ranges_not_strings(fleet3: Path) -> None:
    """The issue's legal 10^6-host list: before, 32 s and 438 MB."""
    out = _fleet_report_child(fleet3, "gpu-node-[000-999999]")
    (missing,) = out["findings"]
    assert out["expected"] == 1_000_000
    assert missing["evidence"]["count"] == 999_997
    assert missing["evidence"]["where"] == "gpu-node-[003-099,100-999999]"
    assert missing["message"].endswith(
        "999997 of 1000000 expected node(s) sent no facts: gpu-node-[003-099,100-999999]"
    )
    assert missing["evidence"]["missing"][:2] == ["gpu-node-003", "gpu-node-004"]
    assert len(missing["evidence"]["missing"]) == 10_000
    assert out["peak_mib"] < 32, out["peak_mib"]


@pytest.mark.parametrize(
    ("nodes", "count", "where"),
    [
        # a 1,000-character prefix on a million hosts (before: a GB of names)
        ("x" * 1000 + "[0-999999]", 1_000_000, "x" * 1000 + "[0-999999]"),
        # the same range 200 times (before: 200 million names made, then dropped)
        (",".join(["gpu-node-[000-999999]"] * 200), 999_997, "gpu-node-[003-099,100-999999]"),
        # ... and 200 times inside one bracket (before: refused as 20 million hosts)
        (
            "gpu-node-[" + ",".join(["000-099999"] * 200) + "]",
            99_997,
            "gpu-node-[003-099,100-99999]",
        ),
        # a 100 KB prefix (before: MemoryError, exit 4)
        ("y" * 100_000 + "[0-9999]", 10_000, "y" * 100_000 + "[0-9999]"),
    ],
    ids=["1000-char-prefix", "range-200-times", "range-200-times-in-a-bracket", "100kb-prefix"],
)
def test_adversarial_but_legal_hostlists_are_read_on_their_ranges(
    fleet3: Path, nodes: str, count: int, where: str
) -> None:
    out = _fleet_report_child(fleet3, nodes, timeout=30)
    (missing,) = out["findings"]
    assert missing["id"] == "EL-FLEET-NODE-MISSING"
    assert missing["evidence"]["count"] == count and missing["evidence"]["where"] == where
    assert sum(map(len, missing["evidence"]["missing"])) <= (1 << 20) + 100_010
    assert out["peak_mib"] < 64, out["peak_mib"]


@pytest.mark.parametrize(
    ("nodes", "why"),
    [
        ("x" * 100_000 + "[1-", "never closed"),
        ("gpu[1-" + "9" * 5000 + "]", "more than 18 digits"),
        ("n[0-999999],m[0-999999]", "names more than 1000000 hosts"),
        ("[1-2]" * 17, "more than 100000 hosts"),  # ranges side by side are expanded
    ],
    ids=["100kb-unclosed", "5000-digit-number", "two-million", "17-joined-ranges"],
)
def test_a_bad_nodes_value_is_one_short_line_and_exit_2(fleet3: Path, nodes: str, why: str) -> None:
    proc = run_envlock(["fleet", "report", str(fleet3), "--nodes", nodes], timeout=60)
    assert proc.returncode == 2, proc.stderr[-500:]
    assert why in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and len(proc.stderr) < 400, proc.stderr[:500]


def test_compress_hostlist_treats_long_or_non_ascii_digits_as_text() -> None:
    """A 5,000-digit number (before: ValueError, exit 4) and Arabic-Indic digits (before:
    'node٣' was folded into node3) are names, not numbers."""
    huge = "node" + "7" * 5000
    assert compress_hostlist([huge, "node1", "node2"]) == f"{huge},node[1-2]"
    assert compress_hostlist(["node3", "node\u0663"]) == "node3,node\u0663"
    eighteen = "1" * 18  # still a number; 19 digits are text
    assert compress_hostlist(["n" + eighteen, "n" + eighteen[:-1] + "2"]) == (
        f"n[{eighteen}-{eighteen[:-1]}2]"
    )
    assert compress_hostlist(["n1" + eighteen, "n2" + eighteen]) == f"n1{eighteen},n2{eighteen}"


def test_a_hostlist_over_1_mib_is_refused_before_it_is_read(fleet3: Path) -> None:
    """(The command line passes at most 128 KiB in one argument; the API takes any str.)"""
    from envlock import api

    with pytest.raises(UsageError, match=r"longer than 1 MiB \(1200002 characters\)") as exc:
        api.fleet_report(str(fleet3), nodes="n1," * 400_000 + "n2")
    assert "\n" not in str(exc.value) and len(str(exc.value)) < 200
    with pytest.raises(UsageError, match="longer than 1 MiB"):
        api.fleet_report(str(fleet3), nodes=["n[1-2]," * 100_000] * 2)


@pytest.mark.parametrize(
    "host",
    ["gpu-node-007", "gpu-node-1000", "n0", "00", "a1b2", "x" + "9" * 30, "", "é٣", "[x]", "a,b"],
)
def test_one_node_is_named_as_a_hostlist_of_one(host: str) -> None:
    """A value held by one node (another numpy on each) is named without building a
    hostlist: what compress_hostlist makes of one name."""
    from envlock.fleet.compare import _nodes, _where

    assert _nodes([(5, host)]) == f"1 node {compress_hostlist([host])}"
    assert _where([(5, host)]) == f"{host}: rank 5"
