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


def test_a_macos_cpu_torch_is_not_told_to_install_a_cuda_build() -> None:
    # vision-7022 (pytorch/vision#7022): conda's plan from pytorch-nightly/osx-arm64 (torch
    # 1.14.0.dev20221208, no GPU lines) was told "install a CUDA build of torch made for
    # aarch64": no CUDA build of torch exists for macOS, on Apple silicon or Intel
    facts = facts_from_texts(collect_env=(CE / "vision-7022.txt").read_text())
    assert facts.system.os is not None and facts.system.os.id == "macos"
    assert "EL-TORCH-CPU-ONLY" not in [f.check_id for f in run_checks(facts)]
    # pytorch-nightly's CPU build string, on macOS and then from linux-64: there a CPU build
    # where the paste lists no GPU is still said
    cpu = (CE / "vision-7022.txt").read_text().replace("py3.8_0", "py3.8_cpu_0")
    assert "EL-TORCH-CPU-ONLY" not in [
        f.check_id for f in run_checks(facts_from_texts(collect_env=cpu))
    ]
    linux = cpu.replace("osx-arm64", "linux-64")
    facts = facts_from_texts(collect_env=linux)
    assert facts.system.os is None or facts.system.os.id != "macos"
    assert "EL-TORCH-CPU-ONLY" in [f.check_id for f in run_checks(facts)]
