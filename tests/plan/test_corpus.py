"""Issue 24's corpus (tests/fixtures/plan): `envlock doctor --plan FILE --facts HOST` on every
file, on three hosts, gives the verdict tests/fixtures/plan/expected.toml wrote down from
the sourced matrix before any plan check existed.

The hosts are the recorded H100 facts (tests/facts_builders.py h100_host(): H100 80GB HBM3,
driver 580.65.06) and two edits of GPU 0 and the driver section: an RTX 5090 (sm_120,
GeForce RTX brand) on driver 570.86.15 (CUDA 12.8) and a V100 SXM2 (sm_70, Tesla brand) on
driver 535.104.05 (CUDA 12.2), the versions the other tests use for those branches."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import tomllib

from envlock import cli
from envlock.checks.triage import CONSEQUENCES
from envlock.facts import Facts
from envlock.plan import registry
from tests.facts_builders import edit, gpu, h100_host, with_gpus
from tests.plan.yamlcase import CORPUS

EXPECTED = tomllib.loads((CORPUS / "expected.toml").read_text())["verdict"]
SOURCES = tomllib.loads((CORPUS / "sources.toml").read_text())["file"]
HOSTS = ("h100", "rtx5090", "v100")


def host_facts(name: str) -> Facts:
    """One of the three hosts, from the recorded H100 facts."""
    facts = h100_host()
    if name == "h100":
        return facts
    # neither card is in MIG mode (the recorded H100 is)
    if name == "rtx5090":
        card = gpu(
            facts,
            name="NVIDIA GeForce RTX 5090",
            compute_capability="12.0",
            brand="geforce_rtx",
            mig_mode=False,
            memory_total_bytes=32607 << 20,
        )
        driver, cuda = "570.86.15", "12.8"
    else:
        card = gpu(
            facts,
            name="Tesla V100-SXM2-16GB",
            compute_capability="7.0",
            brand="tesla",
            mig_mode=False,
            memory_total_bytes=16 << 30,
        )
        driver, cuda = "535.104.05", "12.2"
    facts = with_gpus(facts, card)
    for path in ("driver.version", "driver.nvml_library_version", "driver.kernel_module_version"):
        facts = edit(facts, path, driver)
    return edit(facts, "driver.cuda_version", cuda)


@pytest.fixture(scope="module")
def host_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("hosts")
    out = {}
    for name in HOSTS:
        out[name] = root / f"{name}.json"
        out[name].write_text(json.dumps(host_facts(name).to_dict()))
    return out


def _doctor_plan(path: Path, facts: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    capsys.readouterr()
    code = cli.main(["doctor", "--plan", str(path), "--facts", str(facts), "--format", "json"])
    report: dict[str, object] = json.loads(capsys.readouterr().out)
    assert code in (0, 1), f"exit {code}"  # 0 pass or partial, 1 errors: never 2, 3 or 4
    return report


@pytest.mark.parametrize("host", HOSTS)
@pytest.mark.parametrize("verdict", EXPECTED, ids=[v["fixture"] for v in EXPECTED])
def test_doctor_plan_gives_the_written_verdict(
    verdict: dict[str, object],
    host: str,
    host_files: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    report = _doctor_plan(CORPUS / str(verdict["fixture"]), host_files[host], capsys)
    findings = report["findings"]
    assert isinstance(findings, list)
    errors = [f["id"] for f in findings if f["severity"] == "error"]
    # the triage's order among errors: a cause before a consequence, then by check ID
    top = min(errors, key=lambda i: (i in CONSEQUENCES, i)) if errors else ""
    want = verdict[host]
    assert isinstance(want, dict)
    assert top == want["error"], f"{verdict['fixture']} on {host}: {want['why']}; got {errors}"
    missing = set(want.get("also", [])) - {f["id"] for f in findings}
    assert not missing, f"{verdict['fixture']} on {host}: {want['why']}"
    # every finding of a plan names the file and line that state its fact
    for finding in findings:
        evidence = finding["evidence"]
        if finding["id"] != "EL-FACTS-UNAVAILABLE":
            assert evidence.get("plan.file") and evidence.get("plan.line"), finding


def test_the_hosts_are_what_expected_toml_says() -> None:
    for name, (model, cc, driver) in {
        "h100": ("NVIDIA H100 80GB HBM3", "9.0", "580.65.06"),
        "rtx5090": ("NVIDIA GeForce RTX 5090", "12.0", "570.86.15"),
        "v100": ("Tesla V100-SXM2-16GB", "7.0", "535.104.05"),
    }.items():
        facts = host_facts(name)
        [card] = facts.driver.gpus
        assert (card.name, card.compute_capability, facts.driver.version) == (model, cc, driver)


def test_the_corpus_is_sourced_and_mixed() -> None:
    """At least 30 real files, each with its repository, path, commit and URL, and a verdict;
    every kind the issue names, detected as the kind sources.toml gives."""
    fixtures = {f["fixture"] for f in SOURCES}
    assert len(fixtures) == len(SOURCES) >= 30
    assert fixtures == {v["fixture"] for v in EXPECTED}
    on_disk = {str(p.relative_to(CORPUS)) for p in CORPUS.glob("*/*") if p.is_file()}
    assert on_disk == fixtures
    kinds = {}
    for row in SOURCES:
        assert re.fullmatch(r"[0-9a-f]{40}", row["commit"])
        assert row["url"] == f"https://github.com/{row['repo']}/blob/{row['commit']}/{row['path']}"
        path = CORPUS / row["fixture"]
        assert registry.detect(path.name, path.read_text()).name == row["kind"], row["fixture"]
        kinds[row["kind"]] = kinds.get(row["kind"], 0) + 1
    assert kinds["dockerfile"] >= 20 and kinds["compose"] >= 5 and kinds["kubernetes"] >= 3
    assert kinds["conda-env"] >= 2


def test_the_readme_shows_the_real_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's `--plan` example is the command's output on the corpus's detectron2
    Dockerfile and the H100 host, line for line (off a terminal: no colour, no folding)."""
    readme = (CORPUS.parents[2] / "README.md").read_text()
    command = "$ envlock doctor --plan Dockerfile --facts h100.json\n"
    shown = readme.split(command, 1)[1].split("```", 1)[0]
    (tmp_path / "h100.json").write_text(json.dumps(host_facts("h100").to_dict()))
    monkeypatch.chdir(CORPUS / "detectron2")
    capsys.readouterr()
    code = cli.main(["doctor", "--plan", "Dockerfile", "--facts", str(tmp_path / "h100.json")])
    assert code == 1
    assert capsys.readouterr().out == shown


def _cell(want: dict[str, object]) -> str:
    text = f"`{want['error']}`" if want["error"] else "no error"
    also = want.get("also") or []
    assert isinstance(also, list)
    return text + (" (+ " + ", ".join(f"`{a}`" for a in also) + ")" if also else "")


def test_the_plan_page_lists_the_written_verdicts() -> None:
    page = (CORPUS.parents[2] / "docs" / "plan.md").read_text()
    for v in EXPECTED:
        cells = " | ".join(_cell(v[h]) for h in HOSTS)
        assert f"| `{v['fixture']}` | {cells} |" in page, v["fixture"]
