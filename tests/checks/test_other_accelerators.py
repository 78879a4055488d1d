"""Machines whose accelerator is not NVIDIA's (session 7 review, helper X2, item a).

vllm-ascend#616 and #1154: an x86_64 Huawei Ascend host runs the CPU build of torch 2.5.1
beside torch-npu, the pairing Ascend's install guide asks for; the doctor warned
EL-TORCH-CPU-ONLY, "install a CUDA build of torch". The AWS Neuron hosts of the corpus
(vllm#4553, #8007, #10932, #12443) hold PyPI's CUDA torch beside torch-neuronx: EL-NO-DRIVER
stays the finding, but its fix told them to "run on a machine with an NVIDIA GPU". A torch
without CUDA is right beside another accelerator's plugin, and a CUDA build there gets that
accelerator's road.
"""

from __future__ import annotations

import pytest

from envlock.checks.registry import run_checks
from envlock.findings import Finding
from envlock.pasted import facts_from_texts
from tests.conftest import FIXTURES

CE = FIXTURES / "collect_env"


def _found(text: str) -> dict[str, Finding]:
    return {f.check_id: f for f in run_checks(facts_from_texts(collect_env=text))}


@pytest.mark.parametrize("name", ["vllm-ascend-616.txt", "vllm-ascend-1154.txt"])
def test_a_cpu_torch_beside_torch_npu_is_not_a_cpu_only_problem(name: str) -> None:
    found = _found((CE / name).read_text())
    assert "EL-TORCH-CPU-ONLY" not in found, found["EL-TORCH-CPU-ONLY"].fix


@pytest.mark.parametrize(
    "name", ["vllm-4553.txt", "vllm-8007.txt", "vllm-10932.txt", "vllm-12443.txt"]
)
def test_a_cuda_torch_on_a_neuron_host_is_not_sent_to_an_nvidia_machine(name: str) -> None:
    f = _found((CE / name).read_text())["EL-NO-DRIVER"]
    assert "NVIDIA GPU and driver" not in (f.fix or ""), f.fix
    assert "Neuron" in (f.fix or "") and "Neuron" in f.message, (f.message, f.fix)
    assert "pip install" not in (f.fix or ""), f.fix  # nothing to install: it is unused


def test_a_cuda_torch_beside_torch_npu_gets_the_cpu_build_of_its_release() -> None:
    """The Ascend report as it would read with PyPI's CUDA torch in its place: torch-npu
    needs the CPU build of the same release, vLLM-Ascend included."""
    text = (CE / "vllm-ascend-616.txt").read_text()
    text = text.replace(
        "PyTorch version: 2.5.1+cpu",
        "PyTorch version: 2.5.1+cu124\nCUDA used to build PyTorch: 12.4\n"
        "GPU models and configuration: No CUDA\nNvidia driver version: No CUDA",
    ).replace("[pip3] torch==2.5.1+cpu", "[pip3] torch==2.5.1+cu124")
    f = _found(text)["EL-NO-DRIVER"]
    assert "download.pytorch.org/whl/cpu" in (f.fix or ""), f.fix
    assert '"torch==2.5.*"' in (f.fix or "") and "pip uninstall -y torch" in (f.fix or ""), f.fix
    assert "Ascend" in f.message, f.message


def test_an_xpu_build_beside_nvidia_gpus_is_not_called_cpu_only() -> None:
    """An Intel XPU build (+xpu) has no CUDA: beside NVIDIA GPUs it is the wrong build, but
    not a CPU-only one."""
    text = (CE / "vllm-8477.txt").read_text()
    text = text.replace("2.4.0+cpu", "2.4.0+xpu")
    f = _found(text)["EL-TORCH-CPU-ONLY"]
    assert "CPU-only" not in f.message and "XPU" in f.message, f.message
