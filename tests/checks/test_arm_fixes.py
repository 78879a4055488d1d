"""EL-TORCH-CPU-ONLY's and EL-TORCH-MISSING's fixes on Arm (issue 21, session 8).

A Jetson (L4T's tegra kernel) takes NVIDIA's JetPack builds: download.pytorch.org's aarch64
CUDA wheels are server-Arm (SBSA) builds that do not serve its integrated GPU
(lerobot-2363: torch 2.7.1+cpu on a Jetson AGX Orin). A server-Arm host is told where the
official aarch64 CUDA builds start (matrix/arm.ARM_CUDA) and the command that names one,
never a placeholder index. Where torch is missing on a Jetson (pytorch-130524: JetPack 5's
CUDA 11.4, conda-forge's Python 3.8), pip's torch is not the build to install either.
"""

from __future__ import annotations

from envlock.checks.registry import run_checks
from envlock.findings import Finding
from envlock.matrix.arm import ARM_CUDA, JETSON
from envlock.pasted import facts_from_texts


def _paste(platform: str, torch: str = "2.7.1+cpu") -> str:
    return "\n".join(
        [
            "Collecting environment information...",
            f"PyTorch version: {torch}",
            "Is debug build: False",
            "CUDA used to build PyTorch: None",
            "",
            "OS: Ubuntu 22.04.5 LTS (aarch64)",
            "Python version: 3.10.12 (main, Feb  4 2025, 14:57:36) [GCC 11.4.0] (64-bit runtime)",
            f"Python platform: {platform}",
            "Is CUDA available: False",
            "",
            "Versions of relevant libraries:",
            *([f"[pip3] torch=={torch}"] if torch != "N/A" else []),
            "",
        ]
    )


def _one(check_id: str, platform: str, torch: str = "2.7.1+cpu") -> Finding:
    found = [
        f
        for f in run_checks(facts_from_texts(collect_env=_paste(platform, torch)))
        if f.check_id == check_id
    ]
    assert len(found) == 1, found
    return found[0]


def test_a_jetson_is_told_nvidias_jetpack_builds_not_the_server_arm_wheels() -> None:
    fix = _one("EL-TORCH-CPU-ONLY", "Linux-5.15.148-tegra-aarch64-with-glibc2.35").fix or ""
    assert JETSON in fix, fix
    assert "download.pytorch.org" not in fix and "official ones from" not in fix, fix


def test_a_server_arm_host_is_told_where_the_official_aarch64_cuda_builds_start() -> None:
    fix = _one("EL-TORCH-CPU-ONLY", "Linux-6.8.0-1021-nvidia-64k-aarch64-with-glibc2.35").fix or ""
    release, cuda = ARM_CUDA
    assert f"from torch {release} with CUDA {cuda} on" in fix, fix
    assert "`envlock matrix` run there" in fix, fix
    assert "cuXYZ" not in fix and "JetPack" not in fix, fix


def test_torch_missing_on_a_jetson_is_nvidias_build_not_pip() -> None:
    fix = _one("EL-TORCH-MISSING", "Linux-5.10.120-tegra-aarch64-with-glibc2.31", "N/A").fix
    assert "JetPack wheels" in (fix or "") and "pip install torch" not in (fix or ""), fix


def test_torch_missing_on_a_server_arm_host_is_pips() -> None:
    fix = _one("EL-TORCH-MISSING", "Linux-6.8.0-1021-nvidia-64k-aarch64-with-glibc2.35", "N/A").fix
    assert "python -m pip install torch" in (fix or "") and "JetPack" not in (fix or ""), fix
