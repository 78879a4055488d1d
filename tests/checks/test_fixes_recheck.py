"""Issue 10, item 5: every fix that names a build or a driver is re-checked.

For every scenario the check tests hold (tests/checks/test_checks.py CASES, the
recorded and derived fixtures) and the scenarios of the issue, each finding
that names a build or a driver carries its roads as data (evidence
"fix.roads", computed by envlock.matrix.advice). Each road is applied to the
facts as pip or a driver upgrade would change them (torch version, CUDA,
arch flags, cuDNN, NCCL and their wheels; driver version and its CUDA), the
checks run again, and the finding must be gone with no new error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from envlock.checks.registry import run_checks
from envlock.facts import Facts, GpuFacts, WheelFacts
from envlock.findings import Finding, Severity
from envlock.matrix import Version, load_matrix
from tests.checks.test_checks import CASES, _driver, _live, _torch
from tests.facts_builders import cpu_venv, cuda_venv, edit, gpu, h100_host, with_gpus

_WHEEL_LIBS = ("nvidia-cudnn", "nvidia-nccl")


def _flags(variant: Any) -> list[str]:
    return [str(t) for t in variant.targets]


def apply_road(facts: Facts, road: dict[str, str]) -> Facts:
    """The facts after following one road of a fix."""
    m = load_matrix()
    if "driver_at_least" in road:
        v = road["driver_at_least"]
        cuda = m.newest_cuda_for_driver(Version.parse(v))
        assert cuda is not None, v
        facts = _driver(facts, v, str(cuda))
        if not road.get("torch"):
            return facts
    if road["variant"] == "cpu":  # the CPU wheel (issue 21: no build serves the GPU)
        return _cpu_build(facts, f"{road['torch']}.0+cpu")
    release = m.torch_release(Version.parse(road["torch"]))
    assert release is not None
    variant = release.variant(road["variant"])
    assert variant is not None
    installed = Version.of(facts.torch.version) if facts.torch.installed else None
    if installed is not None and installed.truncate(2) == release.release:
        base = ".".join(str(p) for p in installed.parts)
    else:
        base = f"{release.release}.0"
    if facts.torch.version == f"{base}+{variant.name}":
        return facts  # the road keeps this build (a driver upgrade)
    assert variant.targets is not None  # a road to a build never rests on an unknown list
    facts = edit(facts, "torch.installed", True)
    facts = _torch(facts, f"{base}+{variant.name}", str(variant.cuda))
    major = variant.cuda.major
    wheels = [w for w in facts.cuda.wheels if not w.name.startswith(_WHEEL_LIBS)]
    if variant.cudnn is not None:
        cudnn = variant.cudnn_pypi or variant.cudnn
        wheels.append(
            WheelFacts(name=f"nvidia-cudnn-cu{major}", version=str(cudnn), cuda_major=major)
        )
    if variant.nccl is not None:
        wheels.append(
            WheelFacts(name=f"nvidia-nccl-cu{major}", version=str(variant.nccl), cuda_major=major)
        )
    wheels = [w for w in wheels if w.cuda_major in (None, major)]  # pip replaces the stack
    facts = edit(facts, "cuda.wheels", wheels)
    dists = {n: v for n, v in facts.packages.distributions.items() if not n.startswith("nvidia-")}
    dists.update({w.name: w.version for w in wheels if w.name.startswith("nvidia-")})
    facts = edit(facts, "packages.distributions", dists)
    if facts.torch.live is not None:
        cudnn_v = variant.cudnn.truncate(3) if variant.cudnn is not None else None
        facts = _live(
            facts,
            arch_flags=_flags(variant),
            cudnn_version=str(cudnn_v) if cudnn_v else None,
            nccl_version=str(variant.nccl) if variant.nccl else None,
            loaded_libraries=[],
            # not observable before the new build runs: the checks that need it stay quiet
            cuda_available=None,
            cuda_unavailable_reason=None,
        )
    return facts


def _cpu_build(facts: Facts, version: str) -> Facts:
    """pip's CPU wheel: no CUDA, no nvidia-* wheels, no GPU arch flags."""
    facts = _torch(edit(facts, "torch.installed", True), version, None)
    facts = edit(facts, "cuda.wheels", [])
    dists = {n: v for n, v in facts.packages.distributions.items() if not n.startswith("nvidia-")}
    facts = edit(facts, "packages.distributions", dists)
    if facts.torch.live is not None:
        facts = _live(
            facts,
            arch_flags=[],
            cudnn_version=None,
            nccl_version=None,
            loaded_libraries=[],
            cuda_available=None,
            cuda_unavailable_reason=None,
        )
    return facts


def _errors(found: list[Finding]) -> set[str]:
    return {f.check_id for f in found if f.severity is Severity.ERROR}


def _recheck(
    facts: Facts, host: Facts | None = None, expect: tuple[str, ...] = ()
) -> list[tuple[str, dict[str, str]]]:
    """Every (finding, road) re-checked; returns what was checked."""
    before = run_checks(facts, host=host, expect=expect)
    checked = []
    for finding in before:
        roads = finding.evidence.get("fix.roads")
        if finding.fix and "download.pytorch.org/whl/cu" in finding.fix:  # a CUDA build
            assert roads, f"{finding.check_id} names a build not computed by the matrix"
        for road in roads or []:
            # the driver is the host's: a driver road changes the host facts too
            new_host = host
            if host is not None and "driver_at_least" in road:
                new_host = apply_road(host, {**road, "torch": "", "variant": ""})
            after = run_checks(apply_road(facts, road), host=new_host, expect=expect)
            ids = {f.check_id for f in after}
            assert finding.check_id not in ids, (finding.check_id, road, finding.fix)
            new = _errors(after) - _errors(before)
            assert not new, (finding.check_id, road, [f.message for f in after])
            checked.append((finding.check_id, road))
    return checked


# ------------------------------------------------------------- the issue's scenarios
CU117_FLAGS = ["sm_37", "sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86"]
CU128_FLAGS = ["sm_75", "sm_80", "sm_86", "sm_90", "sm_100", "sm_120"]


def h100_torch_2_0_cu117() -> Facts:
    """h100_host edited: torch 2.0.1+cu117 and that wheel's arch flags (matrix 2.0 cu117)."""
    return _live(_torch(h100_host(), "2.0.1+cu117", "11.7"), arch_flags=CU117_FLAGS)


def h100_cpu_torch_2_13() -> Facts:
    """h100_host edited: the CPU venv's torch (2.13.0+cpu, no live CUDA facts)."""
    f = _torch(h100_host(), cpu_venv().torch.version or "", None)
    return _live(f, arch_flags=[], cudnn_version=None, nccl_version=None, loaded_libraries=[])


def driver_520_torch_cu128() -> Facts:
    """h100_host edited: torch 2.7.1+cu128 on driver 520.61.05 (CUDA 11.8)."""
    f = _live(_torch(h100_host(), "2.7.1+cu128", "12.8"), arch_flags=CU128_FLAGS)
    return _driver(f, "520.61.05", "11.8")


def rtx5090_torch_2_6_cu126() -> Facts:
    """h100_host edited: an RTX 5090 (12.0), torch 2.6.0+cu126 with cuDNN 9.5.1."""
    g: GpuFacts = gpu(h100_host(), name="NVIDIA GeForce RTX 5090", compute_capability="12.0")
    f = _torch(with_gpus(h100_host(), g), "2.6.0+cu126", "12.6")
    return _live(
        f,
        arch_flags=["sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86", "sm_90"],
        cudnn_version="9.5.1",
        devices=[],
    )


def _one(facts: Facts, check_id: str) -> Finding:
    (finding,) = [f for f in run_checks(facts) if f.check_id == check_id]
    return finding


def test_h100_torch_2_0_cu117_gets_2_0_cu118_not_the_newest() -> None:
    f = _one(h100_torch_2_0_cu117(), "EL-ARCH-UNSUPPORTED")
    assert f.evidence["fix.roads"][0] == {"torch": "2.0", "variant": "cu118"}
    assert 'torch==2.0.*" --index-url https://download.pytorch.org/whl/cu118' in (f.fix or "")


def test_cpu_torch_2_13_on_an_h100_gets_2_13_cu130() -> None:
    f = _one(h100_cpu_torch_2_13(), "EL-TORCH-CPU-ONLY")
    assert f.evidence["fix.roads"][0] == {"torch": "2.13", "variant": "cu130"}


def test_driver_520_with_cu128_offers_both_roads() -> None:
    f = _one(driver_520_torch_cu128(), "EL-DRIVER-TOO-OLD")
    roads = f.evidence["fix.roads"]
    assert {"driver_at_least": "570.26", "torch": "2.7", "variant": "cu128"} in roads
    # the other road: the nearest cu118 build, 2.7's (torch.toml flags its list UNVERIFIED:
    # no 2.7 build script was read; it is the builder's cu118 list, with 9.0 since 2.0)
    assert {"torch": "2.7", "variant": "cu118"} in roads
    assert "upgrade the NVIDIA driver to >= 570.26" in (f.fix or "") and "cu118" in (f.fix or "")


def test_rtx_5090_cudnn_fix_never_recommends_a_build_without_sm_120() -> None:
    f = _one(rtx5090_torch_2_6_cu126(), "EL-CUDNN-GPU-UNSUPPORTED")
    roads = f.evidence["fix.roads"]
    assert roads and all(r["variant"] != "cu126" for r in roads)
    assert "cu126" not in (f.fix or "")


ISSUE_SCENARIOS: list[Callable[[], Facts]] = [
    h100_torch_2_0_cu117,
    h100_cpu_torch_2_13,
    driver_520_torch_cu128,
    rtx5090_torch_2_6_cu126,
]


@pytest.mark.parametrize("build", ISSUE_SCENARIOS, ids=lambda b: b.__name__)
def test_the_issue_scenarios_fixes_hold(build: Callable[[], Facts]) -> None:
    assert _recheck(build())  # each has at least one road, and each road holds


@pytest.mark.parametrize("build", [cpu_venv, cuda_venv, h100_host], ids=lambda b: b.__name__)
def test_recorded_facts_fixes_hold(build: Callable[[], Facts]) -> None:
    _recheck(build())


def test_every_check_case_fix_holds() -> None:
    checked = []
    for case in CASES:
        host = case.host() if case.host else None
        checked += _recheck(case.build(), host=host, expect=case.expect)
    # the check cases hold findings with roads (arch, CPU-only, driver): not a vacuous pass
    assert {c for c, _ in checked} >= {"EL-ARCH-UNSUPPORTED", "EL-DRIVER-TOO-OLD"}
