"""CI formats: JUnit XML that parses, GitHub workflow commands that match the runner's format."""

from __future__ import annotations

import dataclasses
import io
import re
import xml.etree.ElementTree as ET

from envlock.details import VerifyDetails
from envlock.findings import Report
from envlock.lock import build_lock
from envlock.report import render
from envlock.verify import checked_fields, verify
from tests.facts_builders import h100_host


def _drift_report(strict: bool = False) -> Report:
    facts = h100_host()
    lock = build_lock(facts)
    drifted = facts.replace(
        torch=dataclasses.replace(facts.torch, version="2.13.0+cu130"),
        packages=dataclasses.replace(
            facts.packages, distributions={**facts.packages.distributions, "flash-attn": "2.8.3"}
        ),
        env=dataclasses.replace(
            facts.env, variables={**facts.env.variables, "NCCL_DEBUG": "INFO,\nmulti%line"}
        ),
    )
    findings = verify(lock, drifted)
    failed = {f.field for f in findings}
    return Report(
        command="verify",
        target="host",
        findings=findings,
        strict=strict,
        details=VerifyDetails(
            lock="envlock.lock.toml",
            scope="full",
            passed=tuple(f for f in checked_fields(lock) if f not in failed),
        ),
    )


def test_junit_parses_with_one_case_per_field() -> None:
    report = _drift_report()
    out = io.StringIO()
    render(report, "junit", out)
    root = ET.fromstring(out.getvalue().split("\n", 1)[1])
    assert root.tag == "testsuites"
    (suite,) = root
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert int(suite.get("tests")) == len(cases) > 5
    assert cases["torch.version"].find("failure") is not None
    assert cases["torch.version"].find("failure").get("type") == "EL-VERIFY-DRIFT"
    assert cases["packages.flash-attn"].find("skipped") is not None  # a warning: not a failure
    assert cases["torch.cuda"].find("failure") is None and len(cases["torch.cuda"]) == 0  # passed
    assert int(suite.get("failures")) == sum(
        1 for c in cases.values() if c.find("failure") is not None
    )
    strict = io.StringIO()
    render(_drift_report(strict=True), "junit", strict)
    sroot = ET.fromstring(strict.getvalue().split("\n", 1)[1])
    assert int(sroot[0].get("failures")) > int(suite.get("failures"))


WORKFLOW_COMMAND = re.compile(
    r"^::(error|warning|notice)( [a-z]+=[^,:\n]*(,[a-z]+=[^,:\n]*)*)?::[^\n]*$"
)


def test_github_lines_match_the_workflow_command_format() -> None:
    out = io.StringIO()
    render(_drift_report(), "github", out)
    lines = out.getvalue().splitlines()
    commands = [ln for ln in lines if ln.startswith("::")]
    assert commands and all(WORKFLOW_COMMAND.match(ln) for ln in commands), commands
    assert any(
        ln.startswith(
            "::error file=envlock.lock.toml,title=envlock EL-VERIFY-DRIFT torch.version::"
        )
        for ln in commands
    )
    assert any(ln.startswith("::warning ") and "flash-attn" in ln for ln in commands)
    # a value with a newline cannot start a second command
    nccl = next(ln for ln in commands if "NCCL_DEBUG" in ln)
    assert "%25" in nccl and not any(ln.startswith("multi") for ln in lines)
    assert lines[-1].startswith("envlock verify failed:")


def test_clean_report_renders_in_every_format() -> None:
    facts = h100_host()
    report = Report(
        command="verify",
        target="host",
        findings=verify(build_lock(facts), facts),
        details=VerifyDetails(
            lock="envlock.lock.toml", scope="full", passed=tuple(checked_fields(build_lock(facts)))
        ),
    )
    for fmt in ("text", "json", "junit", "github"):
        out = io.StringIO()
        render(report, fmt, out)
        assert out.getvalue()
    junit = io.StringIO()
    render(report, "junit", junit)
    suite = ET.fromstring(junit.getvalue().split("\n", 1)[1])[0]
    assert suite.get("failures") == "0" and int(suite.get("tests")) > 5
