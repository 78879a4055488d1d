"""Real collect_env reports from public issues: envlock's top finding against the diagnosis
the thread (or the report itself) established. tests/fixtures/collect_env/corpus.json
names each report's issue, category and the finding that states its cause."""

from __future__ import annotations

import json
from typing import Any

import pytest

from envlock.checks import run_checks
from envlock.checks.triage import top_finding
from envlock.findings import Severity
from envlock.pasted import facts_from_texts
from tests.conftest import FIXTURES

CE = FIXTURES / "collect_env"
CORPUS: list[dict[str, Any]] = json.loads((CE / "corpus.json").read_text())["reports"]
DIAGNOSED = ("arch", "driver", "cpu-wheel", "family", "cudnn", "nccl")


def _top(entry: dict[str, Any]) -> str | None:
    facts = facts_from_texts(collect_env=(CE / entry["file"]).read_text())
    top = top_finding(run_checks(facts))
    return top.check_id if top else None


def test_the_corpus_is_real_and_large_enough() -> None:
    assert len(CORPUS) >= 15
    files = {p.name for p in CE.glob("*.txt")}
    assert files == {e["file"] for e in CORPUS}  # every fixture is described, and only those
    for e in CORPUS:
        assert e["url"].startswith("https://github.com/"), e["file"]
        assert e["category"] in (*DIAGNOSED, "fine", "layout", "evidence-cut"), e["file"]
        assert e["basis"], e["file"]
    categories = {e["category"] for e in CORPUS}
    assert {"arch", "driver", "cpu-wheel", "family", "fine"} <= categories


def test_top_finding_names_the_established_diagnosis() -> None:
    """At least 90% of the diagnosed reports; the misses are printed (see the note)."""
    diagnosed = [e for e in CORPUS if e["category"] in DIAGNOSED]
    results = {e["file"]: (_top(e), e["expect_top"]) for e in diagnosed}
    misses = {f: got for f, (got, want) in results.items() if want is None or got != want}
    hits = len(results) - len(misses)
    print(f"\ncorpus hit rate: {hits}/{len(results)}; misses: {misses}")
    assert hits / len(results) >= 0.9, misses


@pytest.mark.parametrize(
    "entry", [e for e in CORPUS if e["category"] == "fine"], ids=lambda e: e["file"]
)
def test_fine_reports_get_no_error(entry: dict[str, Any]) -> None:
    facts = facts_from_texts(collect_env=(CE / entry["file"]).read_text())
    errors = [f.check_id for f in run_checks(facts) if f.severity is Severity.ERROR]
    assert errors == []


@pytest.mark.parametrize(
    "entry", [e for e in CORPUS if e["category"] == "evidence-cut"], ids=lambda e: e["file"]
)
def test_a_cut_report_names_the_check_it_could_not_run(entry: dict[str, Any]) -> None:
    """The excerpt ends before the GPU lines: no guess, and the check that needed them
    is listed as not run."""
    from envlock.api import doctor

    facts = facts_from_texts(collect_env=(CE / entry["file"]).read_text())
    report = doctor(facts=facts)
    assert not report.failed
    assert any(
        item.startswith(f"{entry['expect_top']}: needs") for item in report.details["not_checked"]
    )


@pytest.mark.parametrize("entry", CORPUS, ids=lambda e: e["file"])
def test_every_report_parses_to_partial_facts(entry: dict[str, Any]) -> None:
    facts = facts_from_texts(collect_env=(CE / entry["file"]).read_text())
    assert facts.meta.partial
    assert facts.torch.version or facts.torch.unavailable
