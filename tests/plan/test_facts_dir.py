"""`envlock doctor --plan FILE --facts-dir DIR` (issue 24 item 3): a plan held against every
kind of node of a directory of per-node facts files, the nodes named as hostlists."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from envlock import cli
from envlock.facts import Facts
from envlock.usecases import plan as plan_usecase
from tests.facts_builders import edit, gpu, h100_host, with_gpus
from tests.plan.yamlcase import CORPUS

CU130 = CORPUS / "hf-transformers-all-latest-gpu/Dockerfile"  # torch 2.13.0 cu130
CU128 = CORPUS / "uzi0espil-llm-torch/Dockerfile"  # pytorch/pytorch 2.7.1 cuda12.8


def _node(i: int, driver: str = "580.65.06", cuda: str = "13.0", v100: bool = False) -> Facts:
    """The recorded H100 host as node i (its own host name and GPU UUID), with `driver`."""
    facts = edit(h100_host(), "system.hostname", f"gpu-node-{i:03d}")
    changes: dict[str, object] = {"uuid": f"GPU-{i:08d}-0000-0000-0000-000000000000"}
    if v100:
        changes.update(name="Tesla V100-SXM2-16GB", compute_capability="7.0", mig_mode=False)
    facts = with_gpus(facts, gpu(facts, **changes))
    for path in ("driver.version", "driver.nvml_library_version", "driver.kernel_module_version"):
        facts = edit(facts, path, driver)
    return edit(facts, "driver.cuda_version", cuda)


def _fleet(directory: Path, nodes: dict[int, Facts]) -> Path:
    directory.mkdir(exist_ok=True)
    for i, facts in nodes.items():
        (directory / f"gpu-node-{i:03d}.json").write_text(json.dumps(facts.to_dict()))
    return directory


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, object], str]:
    capsys.readouterr()
    code = cli.main(["doctor", *argv, "--format", "json"])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip() else {}), err


def test_runs_on_most_nodes_and_fails_on_the_old_driver_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    nodes = {i: _node(i) for i in range(1, 63)}
    nodes.update({i: _node(i, "570.86.15", "12.8") for i in (63, 64)})
    fleet = _fleet(tmp_path / "fleet", nodes)
    judged: list[str | None] = []
    real = plan_usecase.judge_plans

    def counting(*args: object, **kwargs: object) -> object:
        host = kwargs["host"]
        assert isinstance(host, Facts)
        judged.append(host.driver.version)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(plan_usecase, "judge_plans", counting)
    code, report, _ = _run(capsys, "--plan", str(CU130), "--facts-dir", str(fleet))
    assert code == 1
    target = str(report["target"])
    assert "on 64 nodes" in target and "(2 kinds)" in target
    assert target.endswith("runs on gpu-node-[001-062], fails on gpu-node-[063-064]")
    assert sorted(judged) == ["570.86.15", "580.65.06"]  # once per kind of node, not per file
    findings = report["findings"]
    assert isinstance(findings, list)
    [old] = [f for f in findings if f["id"] == "EL-DRIVER-TOO-OLD"]
    assert old["message"].startswith("on 2 nodes gpu-node-[063-064]: ")
    assert "driver 570.86.15 (needs >= 580.65.06)" in old["message"]
    assert old["evidence"]["nodes"] == "gpu-node-[063-064]"
    assert old["evidence"]["plan.line"] == 21
    assert all(f["evidence"]["nodes"] == "gpu-node-[063-064]" for f in findings)


def test_a_fleet_where_the_plan_runs_everywhere(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fleet = _fleet(tmp_path / "fleet", {i: _node(i) for i in (1, 2, 3, 7)})
    code, report, _ = _run(capsys, "--plan", str(CU130), "--facts-dir", str(fleet))
    assert code == 0
    assert str(report["target"]).endswith("(1 kind): runs on gpu-node-[001-003,007]")
    assert report["findings"] == []


def test_mixed_gpus_and_an_unreadable_node_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nodes = {1: _node(1), 2: _node(2), 3: _node(3, "535.104.05", "12.2", v100=True)}
    fleet = _fleet(tmp_path / "fleet", nodes)
    (fleet / "gpu-node-004.json").write_text("{not json")
    code, report, _ = _run(capsys, "--plan", str(CU128), "--facts-dir", str(fleet))
    assert code == 1
    assert str(report["target"]).endswith("runs on gpu-node-[001-002], fails on gpu-node-003")
    ids = {f["id"]: f for f in report["findings"]}  # type: ignore[union-attr]
    assert ids["EL-ARCH-UNSUPPORTED"]["evidence"]["nodes"] == "gpu-node-003"
    assert "gpu-node-004.json" in ids["EL-FLEET-NODE-UNREADABLE"]["message"]


@pytest.mark.parametrize(
    ("argv", "code", "says"),
    [
        (["--facts-dir", "DIR"], 2, "--facts-dir holds a --plan"),
        (
            ["--plan", str(CU130), "--facts-dir", "DIR", "--facts", "F.json"],
            2,
            "instead of --facts",
        ),
        (["--plan", str(CU130), "--facts-dir", "MISSING"], 3, "not a directory of facts files"),
    ],
)
def test_usage_and_a_missing_directory_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], code: int, says: str
) -> None:
    argv = [str(tmp_path / a) if a in ("DIR", "F.json", "MISSING") else a for a in argv]
    (tmp_path / "DIR").mkdir()
    got, _, err = _run(capsys, *argv)
    assert got == code
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and says in lines[0], err


def test_more_kinds_of_node_than_judged_one_by_one_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from envlock.usecases import planfleet

    monkeypatch.setattr(planfleet, "MAX_KINDS", 1)
    fleet = _fleet(tmp_path / "fleet", {1: _node(1), 2: _node(2, "570.86.15", "12.8")})
    code, _, err = _run(capsys, "--plan", str(CU130), "--facts-dir", str(fleet))
    assert code == 3
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].endswith("more than 1 kinds of node to judge"), err
