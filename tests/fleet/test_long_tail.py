"""The fleet's worst case (issue 23 item 3): a field present on one node only (a package,
a variable, an extension) must not make a row of every node. Comparison and its findings
grow with nodes + distinct values; a long tail is one line in text and HTML, and every
field in JSON."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from envlock.details import FleetDetails
from envlock.findings import Finding, Report
from envlock.fleet import RankSummary, compare_ranks
from envlock.fleet.compare import LONG_TAIL, FleetTable
from envlock.report import render
from envlock.report.html import fleet_matrix
from tests.conftest import run_envlock
from tests.fleet.nodes import OLD_DRIVER, write_fleet

# what every node of the synthetic fleets has: a real summary's size (~60 fields)
COMMON = {f"packages.common-{i}": "1.0" for i in range(50)} | {
    "driver.version": "580.65.06",
    "torch.version": "2.14.1",
}


def _node(i: int) -> str:
    return f"node-{i:05d}"


def _unique_fleet(n: int, extra: int = 1) -> list[RankSummary]:
    """n nodes, each with `extra` packages no other node has."""
    return [
        RankSummary(
            rank=i,
            host=_node(i),
            fields={**COMMON, **{f"packages.only-{i}-{j}": "1.0" for j in range(extra)}},
        )
        for i in range(n)
    ]


def _report(summaries: list[RankSummary]) -> Report:
    return Report(
        command="fleet report",
        target=f"{len(summaries)} nodes",
        findings=compare_ranks(summaries),
        details=FleetDetails(nodes=tuple(s.host for s in summaries)),
    )


def _cells(findings: list[Finding]) -> int:
    """Every rank and host the findings name: what a nodes x fields table would fill."""
    total = 0
    for f in findings:
        for key in ("values", "hosts"):
            groups = f.evidence.get(key)
            total += sum(len(v) for v in groups.values()) if isinstance(groups, dict) else 0
    return total


def _render(report: Report, fmt: str) -> str:
    out = io.StringIO()
    render(report, fmt, out)
    return out.getvalue()


def test_findings_of_a_long_tail_grow_linearly_with_the_nodes() -> None:
    """Each of n nodes adds one package: n fields that n-1 nodes lack. A finding listing the
    nodes lacking each field fills n x n cells (40,000 at 200 nodes, 4x that at 400); the
    long tail's findings name the node holding each field and count the others."""
    small, large = (compare_ranks(_unique_fleet(n)) for n in (200, 400))
    assert len(small) == 200 and len(large) == 400  # JSON keeps one finding per field
    assert _cells(small) == 2 * 200  # the one rank and the one host holding each
    assert _cells(large) == 2 * 400
    f = next(f for f in large if f.field == "packages.only-7-0")
    assert f.evidence["values"] == {"'1.0'": [7]} and f.evidence["absent"] == 399
    assert f.evidence["where"] == "(none) on the other 399 of 400; 1.0 on 1 node node-00007"


def test_the_table_holds_deltas_not_nodes_x_fields() -> None:
    """The comparison's table: one delta per kind of node, as large as what differs from the
    first kind (the first node's own package, absent elsewhere, plus the node's own)."""
    for n in (100, 1000):
        table = FleetTable()
        for s in _unique_fleet(n):
            table.add(s.rank, s.host, s.fields, s.findings)
        assert len(table.kinds) == n and table.ranks == n
        assert sum(len(k.delta) for k in table.kinds) == 2 * (n - 1)
        assert len(table.base) == len(COMMON) + 1


def test_identical_nodes_share_one_kind() -> None:
    table = FleetTable()
    for i in range(50):
        table.add(i, _node(i), dict(COMMON), [])
    assert len(table.kinds) == 1 and table.kinds[0].delta == {}
    assert [m for m, _ in table.kinds[0].members] == list(range(50))


def test_text_folds_a_long_tail_into_one_line() -> None:
    text = _render(_report(_unique_fleet(40)), "text")
    lines = [ln for ln in text.splitlines() if "present on" in ln]
    first = ", ".join(sorted(f"only-{i}-0" for i in range(40))[:10])  # in finding order
    assert lines == [
        f" ✗ 40 packages present on 1 node each (40 nodes node-[00000-00039]): {first} "
        "... and 30 more (--format json lists all)"
    ]
    assert "packages.only-5-0" not in text  # no line per field


def test_json_lists_every_field_of_a_long_tail() -> None:
    doc = json.loads(_render(_report(_unique_fleet(40, extra=2)), "json"))
    fields = {f["field"] for f in doc["findings"]}
    assert fields == {f"packages.only-{i}-{j}" for i in range(40) for j in range(2)}
    assert all(f["evidence"]["absent"] == 39 for f in doc["findings"])
    assert all(f["evidence"]["tail"] == "packages" for f in doc["findings"])


def test_fields_on_two_nodes_each_are_their_own_line() -> None:
    """Tails are told apart by how many nodes hold each field."""
    summaries = _unique_fleet(30)
    for s in summaries[:24]:  # nodes 2k and 2k+1 share a package: 12 fields on 2 nodes each
        s.fields[f"packages.pair-{s.rank // 2}"] = "2.0"
    text = _render(_report(summaries), "text")
    assert "30 packages present on 1 node each (30 nodes node-[00000-00029])" in text
    assert "12 packages present on 2 nodes each (24 nodes node-[00000-00023])" in text


@pytest.mark.parametrize(("sparse", "folded"), [(LONG_TAIL, False), (LONG_TAIL + 1, True)])
def test_a_few_missing_fields_are_a_normal_divergence(sparse: int, folded: bool) -> None:
    """Up to LONG_TAIL such fields in a section each keep their line naming every node
    (the nodes lacking the field included); one more and the section is a long tail."""
    summaries = _unique_fleet(sparse)
    summaries += [
        RankSummary(rank=i, host=_node(i), fields=dict(COMMON)) for i in range(sparse, 64)
    ]
    report = _report(summaries)
    text = _render(report, "text")
    assert ("present on 1 node each" in text) is folded
    f = next(f for f in report.findings if f.field == "packages.only-3-0")
    assert ("absent" in f.evidence) is folded
    if not folded:
        assert "(none) on 63 nodes node-[00000-00002,00004-00063]; 1.0 on 1 node node-00003" in text
        assert len(f.evidence["hosts"]["None"]) == 63


def test_a_normal_divergence_is_not_folded() -> None:
    """An old driver on two nodes and a variable on one: each its own line, as before."""
    summaries = [RankSummary(rank=i, host=_node(i), fields=dict(COMMON)) for i in range(64)]
    for i in (7, 41):
        summaries[i] = RankSummary(
            rank=i, host=_node(i), fields={**COMMON, "driver.version": OLD_DRIVER}
        )
    summaries[13] = RankSummary(
        rank=13, host=_node(13), fields={**COMMON, "env.NCCL_IB_DISABLE": "1"}
    )
    report = _report(summaries)
    text = _render(report, "text")
    assert "present on" not in text
    assert (
        "env.NCCL_IB_DISABLE: (none) on 63 nodes node-[00000-00012,00014-00063]; 1 on 1 node node-00013"
        in text
    )
    assert all("absent" not in f.evidence for f in report.findings)
    matrix = fleet_matrix(report)
    assert matrix is not None
    assert [c["field"] for c in matrix["columns"]] == ["driver.version", "env.NCCL_IB_DISABLE"]


def test_html_folds_a_long_tail_and_keeps_it_out_of_the_matrix() -> None:
    summaries = _unique_fleet(300)
    summaries[7] = RankSummary(
        rank=7, host=_node(7), fields={**summaries[7].fields, "driver.version": OLD_DRIVER}
    )
    report = _report(summaries)
    matrix = fleet_matrix(report)
    assert matrix is not None  # the driver still has its column; 300 packages have none
    assert [c["field"] for c in matrix["columns"]] == ["driver.version"]
    assert len(matrix["rows"]) == 2
    page = _render(report, "html")
    assert page.count("<tr class=") == 2  # the driver's finding, and the tail's one row
    assert "300 packages present on 1 node each" in page
    assert len(page) < 20_000


def test_fleet_report_of_files_folds_the_long_tail(tmp_path: Path) -> None:
    write_fleet(
        tmp_path, 30, {i: [(f"packages.distributions.only-on-{i}", "1.0")] for i in range(30)}
    )
    proc = run_envlock(["fleet", "report", str(tmp_path)])
    assert proc.returncode == 1, proc.stderr
    assert (
        "30 packages present on 1 node each (30 nodes gpu-node-[000-029]): only-on-0,"
        in proc.stdout
    )
    assert "packages.only-on-3" not in proc.stdout
    proc = run_envlock(["fleet", "report", str(tmp_path), "--format", "json"])
    doc = json.loads(proc.stdout)
    assert len(doc["findings"]) == 30
    assert {f["evidence"]["hosts"][repr("1.0")][0] for f in doc["findings"]} == {
        f"gpu-node-{i:03d}" for i in range(30)
    }


def _views_called(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, drift: dict[int, Any]
) -> tuple[int, list[Finding]]:
    from envlock.fleet import files

    write_fleet(tmp_path, 200, drift, indent=None)
    calls: list[bytes] = []
    real = files.node_view

    def counting(raw: bytes) -> files.NodeView | None:
        calls.append(raw)
        return real(raw)

    monkeypatch.setattr(files, "node_view", counting)
    _, findings = files.report_dir(str(tmp_path), None, scope="full")
    return len(calls), findings


def test_node_views_are_sampled_when_no_node_shares_a_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """200 nodes each with another numpy: views share nothing, so after UNSHARED files only
    one in SAMPLE gets one; the findings are those of a view for every file."""
    from envlock.fleet import files

    drift = {i: [("packages.distributions.numpy", f"2.{i}.0")] for i in range(200)}
    views, findings = _views_called(tmp_path / "a", monkeypatch, drift)
    assert views == files.UNSHARED + len(range(files.UNSHARED, 200, files.SAMPLE))
    monkeypatch.setattr(files, "UNSHARED", 10**9)
    every, same = _views_called(tmp_path / "b", monkeypatch, drift)
    assert every == 200
    assert [f.to_dict() for f in findings] == [f.to_dict() for f in same]


def test_node_views_stay_on_while_nodes_share_summaries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first 100 nodes differ, the next 100 are one kind: views come back within
    two samples and the rest share one summary."""
    from envlock.fleet import files

    drift = {i: [("packages.distributions.numpy", f"2.{i}.0")] for i in range(100)}
    views, _ = _views_called(tmp_path, monkeypatch, drift)
    # views for the first UNSHARED, a sample in SAMPLE until two samples of the one kind
    # (the first registers it), then every file
    assert views >= 200 - (100 - files.UNSHARED) - 2 * files.SAMPLE


def test_github_annotates_a_long_tail_once() -> None:
    lines = _render(_report(_unique_fleet(150)), "github").splitlines()
    assert lines == [
        "::error title=envlock EL-FLEET-DIVERGENT packages::150 packages present on 1 node "
        "each (150 nodes node-[00000-00149]): "
        + ", ".join(sorted(f"only-{i}-0" for i in range(150))[:10])
        + " ... and 140 more (--format json lists all)",
        "envlock fleet report failed: 150 error(s), 0 warning(s)",
    ]


def _numpy_each(n: int, majority: int = 0) -> list[RankSummary]:
    """n nodes: the first `majority` on numpy 1.26.0, every other one on its own version."""
    return [
        RankSummary(
            rank=i,
            host=_node(i),
            fields={**COMMON, "packages.numpy": "1.26.0" if i < majority else f"2.{i}.0"},
        )
        for i in range(n)
    ]


def test_text_names_a_field_with_many_values_compactly() -> None:
    """Another numpy on every node (issue 23 item 3): the text names the first values with
    their nodes and counts the rest, one short line at any fleet size; JSON keeps all."""
    small, large = (_report(_numpy_each(n)) for n in (300, 3000))
    text, big = _render(small, "text"), _render(large, "text")
    line = next(x for x in text.splitlines() if "packages.numpy" in x)
    shown = sorted(f"2.{i}.0" for i in range(300))[:10]
    assert line == (
        " ✗ packages.numpy: 300 distinct values over 300 nodes: "
        + "; ".join(f"{v} on 1 node node-{int(v.split('.')[1]):05d}" for v in shown)
        + " ... and 290 more (--format json lists all)"
    )
    assert len(big) < len(text) + 100  # not a value more per node
    doc = json.loads(_render(large, "json"))
    (numpy,) = [f for f in doc["findings"] if f["field"] == "packages.numpy"]
    assert len(numpy["evidence"]["values"]) == 3000


def test_many_values_keep_the_majority_and_its_hostlist_first() -> None:
    text = _render(_report(_numpy_each(400, majority=100)), "text")
    line = next(x for x in text.splitlines() if "packages.numpy" in x)
    assert line.startswith(
        " ✗ packages.numpy: 301 distinct values over 400 nodes: "
        "1.26.0 on 100 nodes node-[00000-00099]; 2.100.0 on 1 node node-00100; "
    )
    assert line.endswith(" ... and 291 more (--format json lists all)")


def test_ten_values_are_each_named() -> None:
    """Up to SHOWN values a field's line is as before: every value with its nodes."""
    text = _render(_report(_numpy_each(10)), "text")
    line = next(x for x in text.splitlines() if "packages.numpy" in x)
    assert "distinct values" not in line and "more" not in line
    assert line.count(" on 1 node ") == 10
