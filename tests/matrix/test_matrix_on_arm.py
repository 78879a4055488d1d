"""`envlock matrix` answers for Arm machines (session 7 review, helper X2, item e).

It said "does not apply" for every aarch64 system (GH200, GB10, a probed aarch64 host) and
named no build, while the doctor already held the rule that decides them: Linux aarch64
CUDA wheels are on download.pytorch.org from torch 2.7's cu128 on (the 2.7 release post:
"pre-built wheels for CUDA 12.8 across Linux x86 and arm64"); before, Arm's torch wheels
were CPU-only (pytorch#123835's GH200 with 2.2). The table now judges the builds published
for Arm, says which are not, and keeps "does not apply" for a Jetson, whose JetPack needs
NVIDIA's own builds.
"""

from __future__ import annotations

from envlock.api import matrix_advice
from envlock.collect import Source
from envlock.matrix import Version
from tests.conftest import FIXTURES

CE = FIXTURES / "collect_env"


def _arm_published(torch: str, variant: str) -> bool:
    return Version.parse(torch) >= Version((2, 7)) and int(variant.removeprefix("cu")) >= 128


def test_gh200_gets_an_arm_build_and_every_runnable_one_is_published_for_arm() -> None:
    advice = matrix_advice(
        None, gpu="GH200", capability=None, driver="570.86.15", os_name=None, python_version="3.11"
    )
    assert advice.does_not_apply is None, advice.does_not_apply
    assert advice.best is not None and _arm_published(advice.best.torch, advice.best.variant)
    for f in advice.fits:
        if f.runs:
            assert _arm_published(f.torch, f.variant), f
    old = next(f for f in advice.fits if f.torch == "2.6" and f.variant == "cu126")
    assert not old.runs and any("aarch64" in p for p in old.problems), old


def test_gb10_on_a_580_driver_gets_a_build_with_blackwell_kernels() -> None:
    advice = matrix_advice(
        None,
        gpu="NVIDIA GB10",
        capability=None,
        driver="580.65.06",
        os_name=None,
        python_version="3.12",
    )
    assert advice.best is not None, advice
    assert _arm_published(advice.best.torch, advice.best.variant)


def test_a_jetson_is_still_not_answered_from_the_server_arm_wheels() -> None:
    advice = matrix_advice(
        None,
        gpu="AGX Orin",
        capability=None,
        driver="540.4.0",
        os_name=None,
        python_version="3.10",
    )
    assert advice.best is None
    assert advice.does_not_apply is not None and "JetPack" in advice.does_not_apply


def test_the_gh200_paste_gets_an_arm_build() -> None:
    """pytorch#123835: PyPI's CPU torch 2.2.2 on a GH200."""
    advice = matrix_advice(
        Source(collect_env=str(CE / "pytorch-123835.txt")),
        gpu=None,
        capability=None,
        driver=None,
        os_name=None,
        python_version=None,
    )
    assert advice.does_not_apply is None, advice.does_not_apply
    assert advice.best is not None and _arm_published(advice.best.torch, advice.best.variant)
