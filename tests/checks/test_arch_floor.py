"""torch's own floor as a fact (issue 21 item 4): "Found GPU0 NVIDIA TITAN V which is of
cuda capability 7.0. PyTorch no longer supports this GPU because it is too old. The minimum
cuda capability supported by this library is 7.5." The pasted reader keeps the floor
(torch.live.min_capability), and EL-ARCH-UNSUPPORTED fires on a GPU below it where the
build's arch list itself is not known, with the fix the matrix computes: a build of the same
release that still carries the GPU's arch, else the last release that does. Never on a GPU
at or above the floor, nor on a CPU build.

The texts are torch's warnings as pasted in real reports (the corpus file, or the lines
quoted below with their issue); the other facts are the recorded ones, edited field by
field (tests/facts_builders.py)."""

from __future__ import annotations

import pytest

from envlock.checks.registry import run_checks
from envlock.checks.triage import top_finding
from envlock.facts import Facts
from envlock.findings import Finding
from envlock.matrix import Version, load_matrix
from envlock.pasted import facts_from_texts
from tests.checks.test_checks import _live, _torch, _v100
from tests.checks.test_fixes_recheck import CE, _recheck, _recheck_pasted
from tests.facts_builders import cpu_venv, edit, h100_host

# AUTOMATIC1111/stable-diffusion-webui#3003 (torch >= 1.9's wording: the floor is the
# lowest entry of the build's arch list)
A1111_3003 = (
    "Found GPU0 NVIDIA GTX TITAN Black which is of cuda capability 3.5. PyTorch no longer "
    "supports this GPU because it is too old. The minimum cuda capability supported by this "
    "library is 3.7."
)
# alievk/avatarify-python#58 (torch < 1.9's wording, one warning over three lines)
AVATARIFY_58 = """\
    Found GPU0 GeForce GTX 660 Ti which is of cuda capability 3.0.
    PyTorch no longer supports this GPU because it is too old.
    The minimum cuda capability that we support is 3.5.
"""
# a source build (its arch list is its own, not the official wheel's row)
SOURCE_BUILD = "2.14.0a0+git8f3e2a1"


def _floor(text: str) -> str | None:
    live = facts_from_texts(collect_env=text).torch.live
    return live.min_capability if live is not None else None


def test_the_pasted_floor_is_read_in_each_wording() -> None:
    assert _floor((CE / "vllm-18818.txt").read_text()) == "7.5"
    assert _floor(A1111_3003) == "3.7"
    assert _floor(AVATARIFY_58) == "3.5"


def _arch(facts: Facts) -> list[Finding]:
    return [f for f in run_checks(facts) if f.check_id == "EL-ARCH-UNSUPPORTED"]


def _carries(release: Version, variant: str, cc: Version) -> bool:
    row = load_matrix().torch_release(release)
    v = row.variant(variant) if row is not None else None
    targets = v.targets if v is not None else None
    return bool(targets) and any(t.capability == cc and not t.ptx for t in targets or [])


def test_vllm_18818_titan_v_below_the_floor_is_arch_unsupported() -> None:
    """Four TITAN Vs (7.0) under a torch whose floor is 7.5; the digest ends before torch's
    version and arch list. Top finding: EL-ARCH-UNSUPPORTED, the fix the last release that
    still carries sm_70 (nothing installed to stay near)."""
    facts = facts_from_texts(collect_env=(CE / "vllm-18818.txt").read_text())
    findings = run_checks(facts)
    top = top_finding(findings)
    assert top is not None and top.check_id == "EL-ARCH-UNSUPPORTED", findings
    assert "TITAN V" in top.message and "7.5" in top.message
    road = top.evidence["fix.roads"][0]
    sm70 = Version((7, 0))
    assert _carries(Version.parse(road["torch"]), road["variant"], sm70)
    later = [
        r.release
        for r in load_matrix().torch
        if r.release > Version.parse(road["torch"])
        and any(_carries(r.release, v.name, sm70) for v in r.variants)
    ]
    assert later == []
    assert f'"torch=={road["torch"]}.*"' in (top.fix or "")
    assert "EL-ARCH-UNSUPPORTED" in _recheck_pasted(facts)


def _v100_source_build(floor: str | None) -> Facts:
    """h100_host edited: a V100 (7.0), torch a source build of 2.14 for CUDA 13.0 whose
    arch flags were not read, and torch's floor."""
    f = _torch(_v100(h100_host()), SOURCE_BUILD, "13.0")
    return _live(f, arch_flags=[], min_capability=floor)


def test_a_known_release_gets_a_build_of_that_release_first() -> None:
    """2.14 is known: the fix is a 2.14 build that still carries sm_70 (cu126), not another
    release; followed, the finding is gone and no new error comes."""
    (finding,) = _arch(_v100_source_build("7.5"))
    road = finding.evidence["fix.roads"][0]
    assert road["torch"] == "2.14"
    assert _carries(Version((2, 14)), road["variant"], Version((7, 0)))
    assert "7.5" in finding.message and "7.0" in finding.message
    assert _recheck(_v100_source_build("7.5"))


@pytest.mark.parametrize(
    ("floor", "fires"),
    [("7.5", True), ("7.0", False), ("6.0", False), (None, False)],
    ids=["below", "at", "above", "unknown"],
)
def test_only_a_gpu_below_the_floor_fires(floor: str | None, fires: bool) -> None:
    assert bool(_arch(_v100_source_build(floor))) is fires


def test_a_cpu_build_never_fires_on_the_floor() -> None:
    """The CPU venv's torch (2.13.0+cpu) on a V100 host with a floor in its facts: the CPU
    build is the finding (EL-TORCH-CPU-ONLY), not missing kernels."""
    f = _torch(_v100(h100_host()), cpu_venv().torch.version or "", None)
    f = _live(f, arch_flags=[], min_capability="7.5")
    ids = {x.check_id for x in run_checks(f)}
    assert "EL-ARCH-UNSUPPORTED" not in ids and "EL-TORCH-CPU-ONLY" in ids


def test_a_rocm_build_never_fires_on_the_floor() -> None:
    """ROCm's torch < 1.7 printed the same warning with a made-up capability 3.0 for every
    AMD GPU (ROCm/pytorch#627): not CUDA's floor."""
    f = _live(_v100_source_build("7.5"), min_capability="3.5")
    f = edit(edit(f, "torch.cuda", None), "torch.hip", "3.3")
    f = edit(f, "torch.build", "rocm3.3")
    assert _arch(f) == []


def test_a_known_arch_list_decides_over_the_floor() -> None:
    """The recorded cu130 flags (sm_75 ...) on an H100: a floor that disagrees is not read
    where the build's own list is known."""
    assert _arch(_live(h100_host(), min_capability="10.0")) == []
