"""`--format html`: one self-contained page, checked in a real headless browser."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from envlock.details import FleetDetails
from envlock.findings import Finding, Report, Severity
from envlock.fleet import RankSummary, compare_ranks
from envlock.report import FORMATS, render
from envlock.report.html import fleet_matrix
from tests.conftest import run_envlock
from tests.fleet.nodes import OLD_DRIVER, write_fleet
from tests.report.browser import colours, dump_dom, screenshot, table_rows

HOSTILE = "</script><img src=x onerror=\"document.title='pwned'\">&amp;<!--"


@pytest.fixture(scope="module")
def fleet_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """64 nodes from one recorded probe: 007 and 041 on an older driver, 013 with an extra
    NCCL variable, 020 with a variable whose value is markup."""
    tmp = tmp_path_factory.mktemp("html")
    write_fleet(
        tmp / "nodes",
        64,
        {
            7: [("driver.version", OLD_DRIVER)],
            41: [("driver.version", OLD_DRIVER)],
            13: [("env.variables.NCCL_IB_DISABLE", "1")],
            20: [("env.variables.NCCL_DEBUG", HOSTILE)],
        },
    )
    proc = run_envlock(
        ["fleet", "report", str(tmp / "nodes"), "--nodes", "gpu-node-[000-065]", "--format", "html"]
    )
    assert proc.returncode == 1, proc.stderr
    page = tmp / "fleet.html"
    page.write_text(proc.stdout)
    return page


def test_html_is_a_format() -> None:
    assert "html" in FORMATS


def test_page_is_self_contained_and_escapes_what_nodes_sent(fleet_page: Path) -> None:
    page = fleet_page.read_text()
    assert page.startswith("<!DOCTYPE html>")
    # nothing to fetch: no src/href attributes, no CSS imports or urls, a CSP saying so
    assert not re.search(r"<[^>]*\s(src|href)\s*=", page)
    assert "url(" not in page and "@import" not in page
    assert "default-src 'none'" in page
    assert HOSTILE not in page and "<img" not in page
    assert page.count("<script") == 2 and page.count("</script>") == 2


def test_headless_chromium_draws_the_outliers(fleet_page: Path, tmp_path: Path) -> None:
    dom = dump_dom(fleet_page, tmp_path / "profile")
    rows, classes = table_rows(dom, "matrix")
    head = rows[0]
    assert head[:2] == ["nodes", "count"]
    col = {name: i for i, name in enumerate(head)}
    by_nodes = {r[0]: r for r in rows[1:]}
    assert by_nodes["gpu-node-[007,041]"][col["driver.version"]] == OLD_DRIVER
    assert by_nodes["gpu-node-[007,041]"][1] == "2"
    assert by_nodes["gpu-node-013"][col["env.NCCL_IB_DISABLE"]] == "1"
    assert by_nodes["gpu-node-020"][col["env.NCCL_DEBUG"]] == HOSTILE  # text, not markup
    assert by_nodes["gpu-node-[064-065]"][1] == "2"  # missing nodes have their row
    majority = next(r for r in rows[1:] if r[1] == "60")
    assert majority[col["driver.version"]] == "580.65.06"
    # outliers are coloured apart from the majority
    outlier_row = rows.index(by_nodes["gpu-node-[007,041]"])
    assert classes[outlier_row][col["driver.version"]] == "g1"
    assert classes[rows.index(majority)][col["driver.version"]] == "g0"
    assert "<img" not in dom and "pwned" not in dom.split("<body", 1)[0]


def test_headless_chromium_screenshot_is_not_blank(fleet_page: Path, tmp_path: Path) -> None:
    png = screenshot(fleet_page, tmp_path / "profile", tmp_path / "fleet.png")
    counts = colours(png)
    total = sum(counts.values())
    assert total == 1400 * 900
    assert len(counts) > 50, f"only {len(counts)} colours: a blank page"
    assert max(counts.values()) < 0.95 * total
    # the majority's green and the outliers' red cells are drawn
    assert counts.get(bytes((0xDA, 0xFB, 0xE1)), 0) > 500
    assert counts.get(bytes((0xFF, 0xD8, 0xD3)), 0) > 500


def test_10000_nodes_of_four_kinds_are_four_rows() -> None:
    base: dict[str, object] = {"driver.version": "580.65.06", "torch.version": "2.14.1"}
    kinds = [
        base,
        {**base, "driver.version": OLD_DRIVER},
        {**base, "torch.version": "2.14.0"},
        {**base, "env.NCCL_IB_DISABLE": "1"},
    ]
    summaries = [
        RankSummary(
            rank=i,
            host=f"node{i:05d}",
            fields=kinds[0 if i % 97 else 1 + (i // 97) % 3],
            findings=[],
        )
        for i in range(10_000)
    ]
    report = Report(
        command="fleet report",
        target="10000 nodes",
        findings=compare_ranks(summaries),
        details=FleetDetails(nodes=tuple(s.host for s in summaries)),
    )
    matrix = fleet_matrix(report)
    assert matrix is not None
    assert [r["count"] for r in matrix["rows"]] == [9896, 35, 35, 34]
    assert sum(r["count"] for r in matrix["rows"]) == matrix["total"] == 10_000
    out = io.StringIO()
    render(report, "html", out)
    assert len(out.getvalue()) < 200_000


def test_a_report_without_fleet_data_has_findings_and_no_matrix() -> None:
    f = Finding(
        check_id="EL-VERIFY-DRIFT",
        severity=Severity.ERROR,
        message=HOSTILE,
        field="env.X",
        locked="a",
        observed=HOSTILE,
        fix=HOSTILE,
    )
    out = io.StringIO()
    render(Report(command="verify", target=HOSTILE, findings=[f]), "html", out)
    page = out.getvalue()
    assert "<script" not in page and "<img" not in page and 'id="matrix"' not in page
    assert "&lt;/script&gt;&lt;img" in page
