"""A CPU road on macOS installs from PyPI (session 7 review, helper X2).

pytorch#11870 (macOS 10.12, a source build of torch 1.0 for CUDA 9.2, no NVIDIA driver)
was told `pip uninstall -y torch && pip install "torch==1.0.*" --index-url
https://download.pytorch.org/whl/cpu`: macOS wheels are PyPI's (its macOS builds are the
CPU ones), while download.pytorch.org's cpu index lists them only for some releases; a
failed install after the uninstall leaves no torch. On macOS the CPU road is PyPI's.
"""

from __future__ import annotations

from envlock.checks.registry import run_checks
from envlock.pasted import facts_from_texts
from tests.conftest import FIXTURES

CE = FIXTURES / "collect_env"


def test_the_macos_cpu_road_is_pypis() -> None:
    found = run_checks(facts_from_texts(collect_env=(CE / "pytorch-11870.txt").read_text()))
    (f,) = [f for f in found if f.check_id == "EL-NO-DRIVER"]
    fix = f.fix or ""
    # pytorch.org's OSX line for 1.0's newest release: PyPI, untagged, no option
    assert 'pip install "torch==1.0.1"' in fix and "--index-url" not in fix, fix
    assert "torch_stable" not in fix and "+cpu" not in fix, fix


def test_a_linux_cpu_road_keeps_the_cpu_index() -> None:
    found = run_checks(facts_from_texts(collect_env=(CE / "vllm-8885.txt").read_text()))
    (f,) = [f for f in found if f.check_id == "EL-NO-DRIVER"]
    assert "--index-url https://download.pytorch.org/whl/cpu" in (f.fix or ""), f.fix
