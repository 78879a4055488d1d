"""A plan's CUDA wheels include those its torch build itself pulls in (issue 24: "cu12 and
cu13 wheels mixed" on a plan): a stray nvidia-*-cu12 pin beside a cu130 torch is found at
its line, names the torch line, and its fix (the pin moved to torch's major, unpinned) is
one the re-check accepts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, run_envlock
from tests.plan import hosts

H100 = FIXTURES / "facts.cuda-venv+h100-driver-580-replayed.json"

CU13_WITH_CU12_CUBLAS = (
    "FROM nvidia/cuda:13.0.0-cudnn-runtime-ubuntu24.04\n"
    "RUN pip install torch==2.9.0 --index-url https://download.pytorch.org/whl/cu130 && \\\n"
    "    pip install nvidia-cublas-cu12==12.8.4.1\n"
)


def _findings(dockerfile: Path, facts: Path = H100) -> dict[str, dict[str, object]]:
    proc = run_envlock(
        ["doctor", "--plan", str(dockerfile), "--facts", str(facts), "--format", "json"]
    )
    assert proc.returncode in (0, 1), proc.stderr
    return {f["id"]: f for f in json.loads(proc.stdout)["findings"]}


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "Dockerfile"
    path.write_text(text)
    return path


def test_a_cu12_pin_beside_a_cu130_torch_is_found_and_fixed(tmp_path: Path) -> None:
    dockerfile = _write(tmp_path, CU13_WITH_CU12_CUBLAS)
    found = _findings(dockerfile)["EL-WHEELS-MIXED-CUDA"]
    message = str(found["message"])
    assert message.startswith(f"{dockerfile}:2-3: nvidia-* wheels for several CUDA majors")
    assert "CUDA 12: nvidia-cublas-cu12 12.8.4.1" in message
    assert "nvidia-cublas" in message.split("CUDA 13:")[1]  # torch's own, by name
    assert "torch 2.9.0+cu130" in message  # the torch line that pulls them in
    evidence = found["evidence"]
    assert isinstance(evidence, dict)
    new = evidence["plan.replacement"]
    assert isinstance(new, str)
    # the stray moved to torch's major (CUDA 13's unsuffixed wheel, torch's pin decides)
    assert "nvidia-cublas-cu12" not in new and "pip install nvidia-cublas" in new
    assert "torch==2.9.0 --index-url https://download.pytorch.org/whl/cu130" in new
    # the replacement applied: the finding is gone
    first = CU13_WITH_CU12_CUBLAS.splitlines()[0]
    assert "EL-WHEELS-MIXED-CUDA" not in _findings(_write(tmp_path, f"{first}\n{new}\n"))


def test_a_cu13_nccl_beside_a_cu128_torch_clashes_and_moves_to_cu12(tmp_path: Path) -> None:
    dockerfile = _write(
        tmp_path,
        "FROM ubuntu:24.04\n"
        "RUN pip install torch==2.8.0 --index-url https://download.pytorch.org/whl/cu128\n"
        "RUN pip install nvidia-nccl-cu13==2.27.7\n",
    )
    found = _findings(dockerfile)["EL-WHEELS-MIXED-CUDA"]
    assert found["severity"] == "error"  # nvidia-nccl-cu12 and -cu13 install the same files
    assert str(found["message"]).startswith(f"{dockerfile}:3: ")
    assert "torch 2.8.0+cu128" in str(found["message"]) and f"{dockerfile}:2" in str(
        found["message"]
    )
    evidence = found["evidence"]
    assert isinstance(evidence, dict)
    assert evidence["plan.replacement"] == "RUN pip install nvidia-nccl-cu12"


@pytest.mark.parametrize(
    "text",
    [
        # the pin of torch's own major
        "FROM ubuntu:24.04\n"
        "RUN pip install torch==2.8.0 --index-url https://download.pytorch.org/whl/cu128 "
        "nvidia-cublas-cu12==12.8.4.1\n",
        # a CPU torch pulls no CUDA wheels
        "FROM ubuntu:24.04\n"
        "RUN pip install torch==2.8.0 --index-url https://download.pytorch.org/whl/cpu "
        "nvidia-cublas-cu12==12.8.4.1\n",
        # conda's torch brings its libraries from the channel, not nvidia-* wheels
        "FROM continuumio/miniconda3\n"
        "RUN conda install -y pytorch=2.5.1 pytorch-cuda=12.4 -c pytorch -c nvidia\n"
        "RUN pip install nvidia-nccl-cu11==2.21.5\n",
    ],
    ids=["same-major", "cpu-torch", "conda-torch"],
)
def test_no_mixed_wheels_where_none_are(tmp_path: Path, text: str) -> None:
    assert "EL-WHEELS-MIXED-CUDA" not in _findings(_write(tmp_path, text))


def test_cudnn_unsupported_fires_only_where_the_gpu_is_outside(tmp_path: Path) -> None:
    """torch 2.10 cu130's cuDNN 9.15 (sm_75 and newer, cudnn.toml) on a V100 (sm_70), said by
    EL-ARCH-UNSUPPORTED since the build has no sm_70 kernels either; not on
    an H100, and not torch 2.4.1 cu121's cuDNN 9.1 (sm_50-sm_90) on the V100."""
    v100 = hosts.write(hosts.v100(), tmp_path / "v100.json")
    h100 = hosts.write(hosts.h100(), tmp_path / "h100.json")
    line = "RUN pip install torch=={} --index-url https://download.pytorch.org/whl/{}\n"
    dockerfile = _write(tmp_path, "FROM ubuntu:22.04\n" + line.format("2.10.0", "cu130"))
    found = _findings(dockerfile, v100)
    # cu130 has no sm_70 kernels either: one finding, the arch one, says the cuDNN side
    assert "EL-CUDNN-GPU-UNSUPPORTED" not in found
    message = str(found["EL-ARCH-UNSUPPORTED"]["message"])
    assert message.startswith(f"{dockerfile}:2: ") and "cuDNN 9.15" in message, message
    assert "EL-CUDNN-GPU-UNSUPPORTED" not in _findings(dockerfile, h100)
    _write(tmp_path, "FROM ubuntu:22.04\n" + line.format("2.4.1", "cu121"))
    assert "EL-CUDNN-GPU-UNSUPPORTED" not in _findings(dockerfile, v100)
