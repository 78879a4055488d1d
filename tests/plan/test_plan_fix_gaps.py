"""The gaps left in a plan's fixes (issue 24, third pass): a multi-line replacement printed
indented under "fix:" (JSON keeps it exact), `matrix --plan --facts-dir` refused with a
usage line, a conda torch line's fix, a PTX-only build never offered as one with the GPU's
kernels, and the pytorch/pytorch and nvidia/cuda tags a fix names, each one published."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, run_envlock
from tests.plan import hosts

CORPUS = FIXTURES / "plan"

MULTI_LINE = (
    "FROM ubuntu:22.04\n"
    "RUN pip install --no-cache-dir \\\n"
    "      torch==2.7.0 torchvision==0.22.0 \\\n"
    "      --index-url https://download.pytorch.org/whl/cu128\n"
)


@pytest.fixture(scope="module")
def host_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("hosts")
    return {
        name: hosts.write(make(), d / f"{name}.json")
        for name, make in (("h100", hosts.h100), ("v100", hosts.v100), ("rtx5090", hosts.rtx5090))
    }


def _findings(*args: str) -> list[dict[str, object]]:
    proc = run_envlock(["doctor", *args, "--format", "json"])
    assert proc.returncode in (0, 1), proc.stderr
    found = json.loads(proc.stdout)["findings"]
    assert isinstance(found, list)
    return found


def test_a_multi_line_fix_is_indented_under_fix_and_exact_in_json(
    tmp_path: Path, host_files: dict[str, Path]
) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(MULTI_LINE)
    text = run_envlock(["doctor", "--plan", str(dockerfile), "--facts", str(host_files["v100"])])
    assert text.returncode == 1, text.stderr
    lines = text.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("     fix: replace "))
    shown = lines[start + 1 : start + 4]
    # every line of the replacement sits under "fix:", its own indentation kept after that
    assert shown == [
        "          RUN pip install --no-cache-dir \\",
        "                torch==2.7.0 torchvision==0.22.0 \\",
        "                --index-url https://download.pytorch.org/whl/cu118",
    ], lines
    assert not any(line.startswith(("RUN ", "      torch", "      --index")) for line in lines)
    found = _findings("--plan", str(dockerfile), "--facts", str(host_files["v100"]))
    arch = next(f for f in found if f["id"] == "EL-ARCH-UNSUPPORTED")
    assert str(arch["fix"]).endswith(
        "-4 with:\nRUN pip install --no-cache-dir \\\n"
        "      torch==2.7.0 torchvision==0.22.0 \\\n"
        "      --index-url https://download.pytorch.org/whl/cu118"
    ), arch["fix"]


def test_matrix_plan_with_facts_dir_is_a_usage_error(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(MULTI_LINE)
    proc = run_envlock(["matrix", "--plan", str(dockerfile), "--facts-dir", str(tmp_path)])
    assert proc.returncode == 2
    err = proc.stderr.strip().splitlines()
    assert len(err) == 1 and "matrix --plan holds a plan against one machine" in err[0], err
    assert "Traceback" not in proc.stderr
    helptext = " ".join(run_envlock(["matrix", "--help"]).stdout.split())
    assert "--facts-dir" in helptext and "envlock doctor --plan FILE --facts-dir" in helptext


def _sass_for(torch: str, variant: str, capability: str) -> bool:
    from envlock.matrix import Version, load_matrix

    matrix = load_matrix()
    release = matrix.torch_release(Version.parse(torch))
    row = release.variant(variant) if release is not None else None
    targets = row.targets if row is not None else None
    assert targets is not None, (torch, variant)
    return matrix.coverage(Version.parse(capability), targets).sass is not None


@pytest.mark.parametrize(
    "fixture", ["mmdetection/Dockerfile", "compvis-latent-diffusion/environment.yaml"]
)
def test_an_arch_fix_names_a_build_with_the_gpus_own_kernels(
    fixture: str, host_files: dict[str, Path]
) -> None:
    """H8's report: mmdetection's torch 1.6 cu101 on an H100 was told to 'install a torch
    build that includes sm_90' with the road torch 1.5 cu102, whose sm_90 is PTX JIT only
    (torch.toml's 1.5 cu102 arch list); the road must have sm_90 SASS."""
    path = CORPUS / fixture
    found = _findings("--plan", str(path), "--facts", str(host_files["h100"]))
    arch = [f for f in found if f["id"] == "EL-ARCH-UNSUPPORTED"]
    assert arch, found
    for f in arch:
        evidence = f["evidence"]
        assert isinstance(evidence, dict)
        roads = [r for r in evidence["fix.roads"] if r.get("torch") and r.get("variant")]
        assert roads, evidence
        for road in roads:
            assert _sass_for(road["torch"], road["variant"], "9.0"), road
