"""envlock's doctor on the real collect_env corpus (issue 21): per report, the expected
finding against envlock's top finding, then the two scores and the false errors.

    python benchmarks/corpus_score.py [--part tuning|heldout|all] [--json]

A diagnosed report (arch, driver, no-driver, cpu-wheel, family, two-torch, cudnn, nccl) is a
hit when the top finding is the ID that states the established diagnosis (expect_top; a
report whose cause no check states yet, expect_top_new, is a miss). A healthy report
(fine) is a hit when envlock raises no error; an error there is a false error. layout and
evidence-cut reports are listed, not scored. A tuning report marked `miss` (the class and
why it stays one; tests/pasted/test_corpus.py holds the list) is scored like any other. The
held-out part (heldout.json) is scored here only: no test asserts it until the checks are
done (issue 21).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from envlock.checks import run_checks  # noqa: E402
from envlock.checks.triage import top_finding  # noqa: E402
from envlock.errors import FactsError  # noqa: E402
from envlock.findings import Severity  # noqa: E402
from envlock.pasted import facts_from_texts  # noqa: E402

CE = REPO / "tests" / "fixtures" / "collect_env"
PARTS = {"tuning": (CE / "corpus.json", CE), "heldout": (CE / "heldout.json", CE / "heldout")}
DIAGNOSED = frozenset(
    {"arch", "driver", "no-driver", "cpu-wheel", "family", "two-torch", "cudnn", "nccl"}
    | {"torch-missing"}  # session 6: collect_env ran where torch does not import
    | {"bf16"}  # session 10: bf16 asked of a GPU without it (EL-BF16-UNSUPPORTED)
    | {"nvcc"}  # session 10: an extension build against another CUDA major (EL-NVCC-MISMATCH)
)


@dataclass(frozen=True)
class Row:
    part: str
    file: str
    batch: str  # the corpus batch that added the report ('added'), '-' for the first 29
    category: str
    expected: str
    top: str
    errors: tuple[str, ...]
    verdict: str  # "hit", "miss" or "-" (not scored)
    source: str = "issue"  # "repo-file": a repository file's report, not a thread (scored apart)
    # False for a log excerpt, a library's warning alone or a hand-written list (trait
    # not-an-env-report, session 8): scored, and reported apart from environment reports
    env_report: bool = True


def _expected(entry: dict[str, object]) -> str:
    if entry["category"] == "fine":
        return "no error"
    if entry.get("expect_top"):
        return str(entry["expect_top"])
    if entry.get("expect_top_new"):
        return f"new:{entry['expect_top_new']}"
    return "-"


def _verdict(category: str, expected: str, top: str, errors: tuple[str, ...]) -> str:
    if top == "unreadable":
        return "miss" if category == "fine" or category in DIAGNOSED else "-"
    if category == "fine":
        return "miss" if errors else "hit"
    if category in DIAGNOSED:
        return "hit" if top == expected else "miss"
    return "-"


def score_entry(part: str, folder: Path, entry: dict[str, object]) -> Row:
    category, expected = str(entry["category"]), _expected(entry)
    try:
        facts = facts_from_texts(collect_env=(folder / str(entry["file"])).read_text())
    except FactsError:
        # a report envlock cannot read is scored (a miss), not a crash of the whole run
        facts = None
    errors: tuple[str, ...] = ()
    if facts is None:
        top_id = "unreadable"
    else:
        findings = run_checks(facts)
        top = top_finding(findings)
        errors = tuple(f.check_id for f in findings if f.severity is Severity.ERROR)
        top_id = top.check_id if top else "none"
    verdict = _verdict(category, expected, top_id, errors)
    batch = str(entry.get("added", "-"))
    traits = entry.get("traits") or []
    source = "repo-file" if isinstance(traits, list) and "repo-file" in traits else "issue"
    env_report = not (isinstance(traits, list) and "not-an-env-report" in traits)
    return Row(
        part,
        str(entry["file"]),
        batch,
        category,
        expected,
        top_id,
        errors,
        verdict,
        source,
        env_report,
    )


def score_part(part: str) -> list[Row]:
    index, folder = PARTS[part]
    reports = json.loads(index.read_text())["reports"]
    return [score_entry(part, folder, entry) for entry in reports]


def summary(rows: list[Row]) -> dict[str, object]:
    scored = [r for r in rows if r.verdict != "-"]
    hits = sum(r.verdict == "hit" for r in scored)
    healthy = [r for r in rows if r.category == "fine"]
    false_errors = [r.file for r in healthy if r.errors]
    return {
        "hits": hits,
        "scored": len(scored),
        "score": round(hits / len(scored), 3) if scored else None,
        "healthy": len(healthy),
        "false_errors": false_errors,
    }


def print_text(rows: list[Row], summaries: dict[str, dict[str, object]]) -> None:
    print(
        f"{'part':8} {'file':26} {'batch':12} {'category':12} {'expected':24} "
        f"{'top finding':28} verdict"
    )
    for r in rows:
        print(
            f"{r.part:8} {r.file:26} {r.batch:12} {r.category:12} {r.expected:24} "
            f"{r.top:28} {r.verdict}"
        )
    for part, s in summaries.items():
        _print_summary(part, s)
        # a part mixing batches is also scored per batch (a held-out part of two sessions)
        batches = sorted({r.batch for r in rows if r.part == part})
        if len(batches) > 1:
            for batch in batches:
                _print_summary(f"  {part} {batch}", summary(_of(rows, part, batch)))
        # reports from repository files (not issue threads) are reported apart as well
        files = [r for r in rows if r.part == part and r.source == "repo-file"]
        if files:
            _print_summary(f"  {part} repo-file", summary(files))
            threads = [r for r in rows if r.part == part and r.source != "repo-file"]
            _print_summary(f"  {part} issue threads", summary(threads))
        # environment reports (collect_env, other tools' env reports) and the rest, apart
        other = [r for r in rows if r.part == part and not r.env_report]
        if other:
            reports = [r for r in rows if r.part == part and r.env_report]
            _print_summary(f"  {part} environment reports", summary(reports))
            _print_summary(f"  {part} logs, warnings, hand-written", summary(other))


def _of(rows: list[Row], part: str, batch: str) -> list[Row]:
    return [r for r in rows if r.part == part and r.batch == batch]


def _print_summary(label: str, s: dict[str, object]) -> None:
    errors = s["false_errors"]
    assert isinstance(errors, list)
    print(
        f"{label} score: {s['hits']}/{s['scored']} = {s['score']}; "
        f"false errors on healthy: {len(errors)}/{s['healthy']} {errors}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=("tuning", "heldout", "all"), default="all")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args(argv)
    parts = list(PARTS) if args.part == "all" else [args.part]
    rows = [row for part in parts for row in score_part(part)]
    summaries = {part: summary([r for r in rows if r.part == part]) for part in parts}
    if args.json:
        print(json.dumps({"rows": [asdict(r) for r in rows], "scores": summaries}, indent=2))
    else:
        print_text(rows, summaries)
    return 0


if __name__ == "__main__":
    sys.exit(main())
