"""A Report's details are typed per command (envlock/details.py); `--format json` writes them
with the keys, order and values the dicts had, and the renderers dispatch on their type."""

from __future__ import annotations

import dataclasses
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from envlock import api
from envlock.details import (
    DistributedDetails,
    DoctorDetails,
    ExplainDetails,
    FleetDetails,
    VerifyDetails,
    lock_of,
)
from envlock.facts import Facts
from envlock.findings import Report
from envlock.lock import build_lock, dumps_lock
from envlock.report import render
from tests.facts_builders import edit, h100_host
from tests.fleet.nodes import OLD_DRIVER, write_fleet


def _json_details(report: Report) -> dict[str, object]:
    out = io.StringIO()
    render(report, "json", out)
    details: dict[str, object] = json.loads(out.getvalue())["details"]
    return details


def test_doctor_details_keep_their_keys() -> None:
    report = api.doctor(facts=h100_host(), ignore=["EL-CONTAINER-NO-GPU"], expect=["bf16"])
    assert isinstance(report.details, DoctorDetails)
    details = _json_details(report)
    assert list(details) == ["checks", "ignored", "expect", "interpreter", "not_checked"]
    assert details["ignored"] == ["EL-CONTAINER-NO-GPU"] and details["expect"] == ["bf16"]
    assert details["not_checked"] == [] and isinstance(details["checks"], int)


def test_verify_details_keep_their_keys_and_restore_adds_the_venv_last(tmp_path: Path) -> None:
    facts = h100_host()
    lock = tmp_path / "envlock.lock.toml"
    lock.write_text(dumps_lock(build_lock(facts)))
    drifted = edit(facts, "torch.version", "2.13.0+cu130")
    report = api.verify_lock(lock, facts=drifted, determinism=False)
    assert isinstance(report.details, VerifyDetails)
    details = _json_details(report)
    assert list(details) == ["lock", "scope", "probe_notes", "ignored", "passed", "restore"]
    assert details["lock"] == str(lock) and details["scope"] == "full"
    # the interpreter verified: `envlock restore` can put the lock back into it
    assert details["restore"] == f"envlock restore {lock} --python {facts.system.python.executable}"
    passed = details["passed"]
    assert isinstance(passed, list) and "torch.version" not in passed and "torch.cuda" in passed
    # restore names the lock and says what became of the venv; the Report stays frozen
    restored = report.with_details(lock="other.toml", venv="replaced")
    assert list(_json_details(restored)) == [*details, "venv"]
    assert _json_details(restored)["lock"] == "other.toml"
    assert report.details.venv is None and "venv" not in _json_details(report)
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.details.lock = "x"  # type: ignore[misc]


def test_a_lock_object_is_named_as_before() -> None:
    facts = h100_host()
    report = api.verify_lock(build_lock(facts), facts=facts, determinism=False)
    assert _json_details(report)["lock"] == "<Lock>"
    assert lock_of(report.details) == "<Lock>"


def test_fleet_details_leave_out_what_was_not_asked(tmp_path: Path) -> None:
    write_fleet(tmp_path / "nodes", 3, {1: [("driver.version", OLD_DRIVER)]})
    plain = api.fleet_report(str(tmp_path / "nodes"))
    assert isinstance(plain.details, FleetDetails)
    assert _json_details(plain) == {
        "nodes": ["gpu-node-000", "gpu-node-001", "gpu-node-002"],
        "ignored": [],
    }
    lock = tmp_path / "envlock.lock.toml"
    lock.write_text(dumps_lock(build_lock(h100_host())))
    asked = api.fleet_report(
        str(tmp_path / "nodes"), lock, nodes="gpu-node-[000-003]", ignore=["EL-FLEET-NODE-MISSING"]
    )
    assert _json_details(asked) == {
        "nodes": ["gpu-node-000", "gpu-node-001", "gpu-node-002"],
        "expected_nodes": 4,
        "ignored": ["EL-FLEET-NODE-MISSING"],
        "lock": str(lock),
    }
    # code written against the dict reads the same values
    assert asked.details is not None and asked.details["expected_nodes"] == 4
    assert plain.details is not None and plain.details.get("lock") is None
    with pytest.raises(KeyError):
        plain.details["expected_nodes"]


def test_distributed_details_have_the_smoke_test_only_when_run() -> None:
    local = VerifyDetails(
        lock="envlock.lock.toml", scope="full", ignored=("EL-X",), passed=("torch.version",)
    )
    base = DistributedDetails.gathered(local, world_size=4, hosts=["a", "b"], smoke=None)
    keys = ["lock", "scope", "probe_notes", "ignored", "world_size", "hosts"]
    assert base.to_dict() == {
        "lock": "envlock.lock.toml",
        "scope": "full",
        "probe_notes": [],
        "ignored": ["EL-X"],
        "world_size": 4,
        "hosts": ["a", "b"],
    }
    ok = DistributedDetails.gathered(local, world_size=4, hosts=["a"], smoke=(False, 1.5))
    assert list(ok.to_dict()) == [*keys, "smoke", "smoke_seconds"]
    assert (ok.smoke, ok.smoke_seconds) == ("all-reduce over 4 ranks: ok", 1.5)
    failed = DistributedDetails.gathered(local, world_size=4, hosts=["a"], smoke=(True, 0.2))
    assert failed.to_dict()["smoke"] == "failed"
    with pytest.raises(TypeError):
        DistributedDetails.gathered(None, world_size=1, hosts=[], smoke=None)


def test_explain_details_keep_their_keys() -> None:
    report = api.explain("137", checks=False)
    assert isinstance(report.details, ExplainDetails)
    details = _json_details(report)
    assert list(details) == ["explanations", "evidence", "checked", "wanted", "gpu_note"]
    (first,) = details["explanations"]  # type: ignore[misc]
    assert list(first) == ["key", "title", "cause", "fix", "checks", "source"]
    assert details["checked"] is False and details["gpu_note"] is None


def _junit_cases(report: Report) -> list[str]:
    out = io.StringIO()
    render(report, "junit", out)
    suite = ET.fromstring(out.getvalue().split("\n", 1)[1])[0]
    return [str(c.get("name")) for c in suite.iter("testcase")]


def test_only_verify_details_add_passing_cases() -> None:
    verified = Report(
        command="verify",
        target="host",
        details=VerifyDetails(lock="l", scope="full", passed=("torch.version",)),
    )
    assert _junit_cases(verified) == ["torch.version"]
    fleet = Report(command="fleet report", target="1 nodes", details=FleetDetails(nodes=("a",)))
    assert _junit_cases(fleet) == []


def test_a_report_without_details_renders_everywhere() -> None:
    report = Report(command="verify", target="host")
    assert "details" not in report.to_dict()
    for fmt in ("text", "json", "junit", "github", "html"):
        out = io.StringIO()
        render(report, fmt, out)
        assert out.getvalue()
    with pytest.raises(ValueError, match="no details"):
        report.with_details(lock="x")


def test_the_interpreter_line_comes_from_doctor_details_only() -> None:
    facts: Facts = h100_host()
    report = api.doctor(facts=facts)
    assert isinstance(report.details, DoctorDetails) and report.details.interpreter
    out = io.StringIO()
    render(report, "text", out)
    assert f"interpreter: {report.details.interpreter}" in out.getvalue()
