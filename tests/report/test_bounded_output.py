"""Huge but valid reports are summarised past a bound in text, JUnit and GitHub output;
JSON keeps every finding (issue 11: a 230,000-package drift took minutes to print)."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET

import pytest

from envlock.findings import Finding, Report, Severity
from envlock.report import render
from envlock.report.github import MAX_ANNOTATIONS
from envlock.report.junit import MAX_CASES
from envlock.report.text import MAX_ROWS

N = 5000


def _report() -> Report:
    findings = [
        Finding(
            check_id="EL-VERIFY-MISSING",
            severity=Severity.ERROR,
            field=f"packages.pkg-{i:05d}",
            locked=f"1.{i}",
            message=f"packages.pkg-{i:05d}: locked '1.{i}', not present now",
        )
        for i in range(N)
    ]
    return Report(command="verify", target="host", findings=findings)


def _out(fmt: str) -> str:
    buf = io.StringIO()
    render(_report(), fmt, buf)
    return buf.getvalue()


def test_text_is_summarised() -> None:
    text = _out("text")
    assert sum(1 for line in text.splitlines() if "packages.pkg-" in line) == MAX_ROWS
    assert f"and {N - MAX_ROWS} more" in text


def test_junit_is_bounded_and_valid() -> None:
    root = ET.fromstring(_out("junit").split("\n", 1)[1])
    cases = root.findall(".//testcase")
    assert len(cases) == MAX_CASES + 1
    assert cases[-1].get("name") == "envlock: more" and cases[-1].find("failure") is not None


def test_github_is_bounded() -> None:
    lines = _out("github").splitlines()
    assert sum(1 for line in lines if line.startswith("::error")) == MAX_ANNOTATIONS
    assert any(f"{N - MAX_ANNOTATIONS} more findings" in line for line in lines)


def test_json_keeps_everything() -> None:
    assert len(json.loads(_out("json"))["findings"]) == N


@pytest.mark.parametrize("fmt", ["text", "junit", "github"])
def test_small_reports_are_not_summarised(fmt: str) -> None:
    buf = io.StringIO()
    render(Report(command="verify", target="host", findings=_report().findings[:3]), fmt, buf)
    assert "more" not in buf.getvalue()
