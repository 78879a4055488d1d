"""On an aarch64 machine the doctor names only builds published for Arm (session 6
review, helper X).

pytorch#123835: PyPI's CPU torch 2.2.2 on a GH200 (aarch64). The doctor printed `pip
install "torch==2.2.*" --index-url .../cu121`: download.pytorch.org had no aarch64 CUDA
wheel of 2.2 (Linux arm64 CUDA wheels start with torch 2.7's cu128), so pip would take the
plain aarch64 CPU wheel again. On Arm a road names a release and CUDA that publish them.
"""

from __future__ import annotations

import pytest

from envlock.checks.registry import run_checks
from envlock.matrix import Version
from envlock.pasted import facts_from_texts
from tests.conftest import FIXTURES

CE = FIXTURES / "collect_env"


def _cpu_only(name: str) -> tuple[str, list[dict[str, str]]]:
    found = run_checks(facts_from_texts(collect_env=(CE / name).read_text()))
    (f,) = [f for f in found if f.check_id == "EL-TORCH-CPU-ONLY"]
    return f.fix or "", f.evidence["fix.roads"]


def test_gh200_with_torch_2_2_gets_an_arm_build() -> None:
    fix, roads = _cpu_only("pytorch-123835.txt")
    assert roads and roads[0] == {"torch": "2.7", "variant": "cu128"}, fix
    assert "cu121" not in fix, fix


@pytest.mark.parametrize("name", ["pytorch-123835.txt", "vllm-28371.txt", "vllm-28669.txt"])
def test_every_arm_road_is_a_published_arm_build(name: str) -> None:
    fix, roads = _cpu_only(name)
    assert roads, fix
    for road in roads:
        assert Version.parse(road["torch"]) >= Version((2, 7)), fix
        assert int(road["variant"].removeprefix("cu")) >= 128, fix
