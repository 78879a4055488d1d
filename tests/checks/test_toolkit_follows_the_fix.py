"""The toolkit advice agrees with the build the driver fix installs (session 7 review,
helper X2, item c).

espnet#5556: torch 2.1.0+cu121 on a driver for CUDA 11.7, nvcc 11.7. EL-DRIVER-TOO-OLD's
first road installs torch 2.1 cu118 (through the driver's minor-version compatibility),
while EL-NVCC-MISMATCH said "point CUDA_HOME at a CUDA 12.x toolkit": a 12.x toolkit beside
that build is the mismatch again, and extensions it builds need a 12.x driver. After the
first road nvcc 11.7 builds for cu118 as it is (one major), so the advice says so.
"""

from __future__ import annotations

import dataclasses

from envlock.checks.registry import run_checks
from envlock.pasted import facts_from_texts
from tests.checks.test_fixes_recheck import apply_road
from tests.conftest import FIXTURES

CE = FIXTURES / "collect_env"


def test_espnet_5556_keeps_its_11_7_toolkit_for_the_cu118_road() -> None:
    facts = facts_from_texts(collect_env=(CE / "espnet-5556.txt").read_text())
    found = {f.check_id: f for f in run_checks(facts)}
    road = found["EL-DRIVER-TOO-OLD"].evidence["fix.roads"][0]
    assert road["variant"] == "cu118", road
    fix = found["EL-NVCC-MISMATCH"].fix or ""
    assert not fix.startswith("point CUDA_HOME"), fix
    assert "cu118" in fix and "11.7" in fix, fix
    # and it holds: after the road, nvcc 11.7 and torch cu118 are no mismatch
    after = {f.check_id for f in run_checks(apply_road(facts, road))}
    assert "EL-NVCC-MISMATCH" not in after, after


def test_a_toolkit_of_another_major_than_the_road_is_named_for_the_road() -> None:
    """nvcc 10.2 beside the same machine: the toolkit to point at is an 11.x one, the
    road's CUDA, not torch's 12.x."""
    facts = facts_from_texts(collect_env=(CE / "espnet-5556.txt").read_text())
    toolkit = facts.cuda.toolkit
    assert toolkit is not None
    moved = dataclasses.replace(toolkit, nvcc_version="10.2.89")
    facts = dataclasses.replace(facts, cuda=dataclasses.replace(facts.cuda, toolkit=moved))
    fix = next(f.fix for f in run_checks(facts) if f.check_id == "EL-NVCC-MISMATCH") or ""
    assert "CUDA 11.x toolkit" in fix and "cu118" in fix, fix
