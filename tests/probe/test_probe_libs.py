"""packages, CUDA libraries and static torch facts, against real files on this machine."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from envlock.probe import _dists, cudalibs, packages, torch_info
from envlock.probe._torch_child import decode_cudnn, decode_nccl
from tests.conftest import VENV_ROOT, need

CUDA_SITE = VENV_ROOT / "torch-cuda" / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
CUDA_SITE = CUDA_SITE / "site-packages"
CPU_SITE = VENV_ROOT / "torch-cpu" / "lib" / CUDA_SITE.parent.name / "site-packages"


def _dist_info(root: Path, dirname: str, metadata: str, record: str = "") -> None:
    d = root / dirname
    d.mkdir(parents=True)
    (d / "METADATA").write_text(metadata)
    (d / "RECORD").write_text(record)


def test_scan_normalizes_names_and_first_on_path_wins(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    _dist_info(first, "Flash_Attn-2.8.3.dist-info", "Name: flash_attn\nVersion: 2.8.3\n")
    _dist_info(second, "flash_attn-2.7.0.dist-info", "Name: flash-attn\nVersion: 2.7.0\n")
    _dist_info(second, "requests-2.32.0.dist-info", "Name: requests\nVersion: 2.32.0\n")
    got = packages.collect([str(first), str(second)])
    # the full closure (not an allow-list): requests too
    assert got["distributions"] == {"flash-attn": "2.8.3", "requests": "2.32.0"}
    assert got["sources"] == {}


def test_wheel_cuda_major_from_suffix_record_and_pins(tmp_path: Path) -> None:
    _dist_info(tmp_path, "nvidia_nccl_cu12-2.27.5.dist-info", "Name: nvidia-nccl-cu12\n")
    _dist_info(
        tmp_path,
        "nvidia_cufft-12.0.0.61.dist-info",
        "Name: nvidia-cufft\nVersion: 12.0.0.61\n",
        "nvidia/cu13/include/cufft.h,sha256=x,1\nnvidia/cu13/lib/libcufft.so.12,sha256=y,2\n",
    )
    _dist_info(tmp_path, "cuda_toolkit-13.0.3.0.dist-info", "Name: cuda-toolkit\n")
    _dist_info(tmp_path, "cuda_pathfinder-1.9.0.dist-info", "Name: cuda-pathfinder\n")
    dists = _dists.distributions([str(tmp_path)])
    majors = {n: cudalibs.wheel_cuda_major(d) for n, d in dists.items()}
    assert majors == {
        "nvidia-nccl-cu12": 12,
        "nvidia-cufft": 13,
        "cuda-toolkit": 13,
        "cuda-pathfinder": None,
    }


@pytest.mark.venv
def test_wheels_of_the_real_cuda_venv() -> None:
    need(CUDA_SITE.is_dir(), f"{CUDA_SITE} is missing")
    dists = _dists.distributions([str(CUDA_SITE)])
    assert dists["nvidia-cudnn-cu13"].version == "9.24.0.43"
    assert cudalibs.wheel_cuda_major(dists["nvidia-cudnn-cu13"]) == 13
    assert cudalibs.wheel_cuda_major(dists["nvidia-cusparse"]) == 13  # version 12.x, CUDA 13
    got = packages.collect([str(CUDA_SITE)])["distributions"]
    assert got["nvidia-nccl-cu13"] == "2.30.7" and "torch" in got and "triton" in got
    assert got["sympy"]  # torch's own requirements: the full closure (lock-version 1.1)


def test_parse_nvcc_version() -> None:
    out = "nvcc: NVIDIA (R) Cuda compiler driver\nCuda compilation tools, release 13.0, V13.0.88\n"
    assert cudalibs.parse_nvcc_version(out) == "13.0.88"
    assert cudalibs.parse_nvcc_version("no version here") is None


def test_real_toolkit_and_cudart_without_a_driver() -> None:
    nvcc = shutil.which("nvcc") or "/usr/local/cuda/bin/nvcc"
    if not os.access(nvcc, os.X_OK):
        pytest.skip("no CUDA toolkit on this machine")
    expected = subprocess.run([nvcc, "--version"], capture_output=True, text=True).stdout
    toolkit = cudalibs.toolkit_facts()
    assert toolkit["nvcc_version"] == cudalibs.parse_nvcc_version(expected)
    cudart, libcuda = cudalibs.runtime_facts(toolkit["cuda_home"])
    assert cudart["unavailable"] is None
    assert cudart["runtime_version"] == ".".join(toolkit["nvcc_version"].split(".")[:2])
    if not os.path.exists("/proc/driver/nvidia/version"):
        # cudaDriverGetVersion returns 0 without a driver: None, not "0.0".
        assert cudart["driver_version"] is None
        assert "libcuda.so.1 not loadable" in libcuda["unavailable"]


def test_interpret_libcuda_compat_and_errors() -> None:
    got = cudalibs.interpret_libcuda(
        {"driver": [0, 13000], "path": "/usr/local/cuda-13.0/compat/libcuda.so.580.65.06"}
    )
    assert got == {
        "path": "/usr/local/cuda-13.0/compat/libcuda.so.580.65.06",
        "driver_version": "13.0",
        "compat": True,
        "unavailable": None,
    }
    plain = cudalibs.interpret_libcuda({"driver": [0, 12080], "path": "/usr/lib/libcuda.so.1"})
    assert plain["compat"] is False and plain["driver_version"] == "12.8"


def test_ldconfig_and_ld_library_path(tmp_path: Path) -> None:
    text = (
        "\tlibcudnn.so.9 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libcudnn.so.9\n"
        "\tlibz.so.1 (libc6,x86-64) => /lib/x86_64-linux-gnu/libz.so.1\n"
    )
    assert cudalibs.parse_ldconfig(text) == ["/usr/lib/x86_64-linux-gnu/libcudnn.so.9"]
    (tmp_path / "libcudart.so.12").write_text("")
    (tmp_path / "libfoo.so").write_text("")
    got = cudalibs.ld_library_path_facts(f"{tmp_path}:/no/such/dir")
    assert got == [{"path": str(tmp_path), "libraries": ["libcudart.so.12"]}]


def test_decode_cudnn_and_nccl() -> None:
    assert decode_cudnn(92400) == "9.24.0"
    assert decode_cudnn(91002) == "9.10.2"
    assert decode_cudnn(8902) == "8.9.2"
    assert decode_cudnn(None) is None
    assert decode_nccl((2, 30, 7)) == "2.30.7"
    assert decode_nccl(21803) == "2.18.3"
    assert decode_nccl(2708) == "2.7.8"


def test_build_tag() -> None:
    assert torch_info.build_tag("2.14.1+cu130", "13.0", None) == "cu130"
    assert torch_info.build_tag("2.13.0+cpu", None, None) == "cpu"
    assert torch_info.build_tag("2.14.1", "13.0", None) == "cu130"  # PyPI default wheel
    assert torch_info.build_tag("2.5.1", None, "6.2.41133") == "rocm6.2"
    assert torch_info.build_tag(None, None, None) is None


@pytest.mark.venv
@pytest.mark.parametrize(
    ("site", "version", "cuda", "build"),
    [(CUDA_SITE, "2.14.1+cu130", "13.0", "cu130"), (CPU_SITE, "2.13.0+cpu", None, "cpu")],
)
def test_static_torch_facts_from_the_real_venvs(
    site: Path, version: str, cuda: str | None, build: str
) -> None:
    need(site.is_dir(), f"{site} is missing")
    facts = torch_info.static_facts([str(site)])
    assert facts["installed"] is True
    assert facts["version"] == version
    assert facts["cuda"] == cuda
    assert facts["build"] == build
    assert facts["debug"] is False
    assert facts["location"] == str(site / "torch")


def test_no_torch_on_path(tmp_path: Path) -> None:
    assert torch_info.static_facts([str(tmp_path)]) == {"unavailable": None, "installed": False}


def test_child_output_parsing() -> None:
    out = 'noise\nENVLOCK-TORCH-LIVE:{"unavailable": null, "cudnn_version": "9.24.0"}\n'
    assert torch_info.parse_child_output(out, "", 0)["cudnn_version"] == "9.24.0"
    broken = torch_info.parse_child_output("", "Traceback...\nSegmentation fault\n", -11)
    assert broken["unavailable"] == (
        "the torch child process exited with -11 and no facts: Segmentation fault"
    )


@pytest.mark.venv
def test_stray_cuda_12_wheels_name_who_requires_them(tmp_path: Path) -> None:
    """The real CUDA venv's wheels (torch's cu13 stack, read through the probe) plus, on a
    second path entry, constructed dist-infos: nvidia-cuda-runtime-cu12 and the package
    whose Requires-Dist pulls it in (issue 10, item 7)."""
    need(CUDA_SITE.is_dir(), f"{CUDA_SITE} is missing")
    _dist_info(
        tmp_path,
        "nvidia_cuda_runtime_cu12-12.8.90.dist-info",
        "Name: nvidia-cuda-runtime-cu12\nVersion: 12.8.90\n",
    )
    _dist_info(
        tmp_path,
        "cupy_cuda12x-13.6.0.dist-info",
        "Name: cupy-cuda12x\nVersion: 13.6.0\nRequires-Dist: numpy\n"
        "Requires-Dist: nvidia-cuda-runtime-cu12==12.8.*; extra == 'ctk'\n",
    )
    wheels = {w["name"]: w for w in cudalibs.wheel_facts([str(CUDA_SITE), str(tmp_path)])}
    assert wheels["nvidia-cuda-runtime-cu12"]["required_by"] == ["cupy-cuda12x"]
    assert wheels["nvidia-nccl-cu13"]["required_by"] == ["torch"]
    alone = {w["name"]: w for w in cudalibs.wheel_facts([str(CUDA_SITE)])}
    assert "required_by" not in alone["nvidia-nccl-cu13"]  # one CUDA major: not read
