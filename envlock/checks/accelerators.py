"""Accelerators other than NVIDIA's that a machine's packages or torch build name.

A torch without CUDA is the right build beside torch-npu (Huawei Ascend), torch_xla (TPU),
torch-neuronx (AWS Inferentia/Trainium), Intel Gaudi's own torch build and Intel's XPU
builds: "install a CUDA build" is wrong there (vllm-ascend#616). A CUDA build there is
either unused (torch_xla and torch-neuronx run on torch's CPU side) or the wrong torch
(torch-npu wants the CPU build, habana-torch-plugin Gaudi's own build): the fix names the
accelerator's road, never an NVIDIA machine. Evidence is what the facts hold (a paste's
package lines, the live probe's distributions, torch's local version label).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from envlock.pasted.draft import ACCELERATOR_SEEN


@dataclass(frozen=True, kw_only=True, slots=True)
class Accelerator:
    name: str  # "a Huawei Ascend NPU host"
    evidence: str  # "torch-npu 2.5.1.dev20250320"
    # with a CUDA build of torch: "cpu", its CPU build is the one to install; "unused",
    # the CUDA side is never used and nothing breaks; "vendor", the vendor's own build
    cuda_build: str
    road: str  # what to do with a CUDA build of torch there


# (name, distribution names as pip normalises them, what a CUDA build means, the road);
# Neuron before TPU: torch-neuronx installs torch-xla too
_BY_PACKAGE: tuple[tuple[str, tuple[str, ...], str, str], ...] = (
    (
        "a Huawei Ascend NPU host",
        ("torch-npu",),
        "cpu",
        "torch-npu runs on the CPU build of torch (Ascend's install guide), not a CUDA one",
    ),
    (
        "an AWS Neuron (Inferentia/Trainium) host",
        ("torch-neuronx", "torch-neuron", "neuronx-cc", "libneuronxla", "transformers-neuronx"),
        "unused",
        "nothing to change for Neuron: torch-neuronx runs through torch-xla on torch's CPU "
        "side, so torch's CUDA side is unused here, not broken",
    ),
    (
        "an Intel Gaudi (HPU) host",
        ("habana-torch-plugin", "habana-torch-dataloader", "habana-frameworks"),
        "vendor",
        "install Intel Gaudi's own PyTorch build (the Gaudi software installer or its Docker "
        "image): habana-torch-plugin does not load on PyPI's CUDA torch",
    ),
    (
        "a Google TPU host",
        ("torch-xla", "libtpu", "libtpu-nightly"),
        "unused",
        "nothing to change for the TPU: torch_xla runs on torch's CPU side, so torch's CUDA "
        "side is unused here, not broken",
    ),
)


# what a paste's own lines name (pasted/accel_lines.py's notes): kind -> _BY_PACKAGE's name
_BY_LINE = {
    "ascend": "a Huawei Ascend NPU host",
    "neuron": "an AWS Neuron (Inferentia/Trainium) host",
    "hpu": "an Intel Gaudi (HPU) host",
    "tpu": "a Google TPU host",
}


def other_accelerator(
    distributions: Mapping[str, str], torch_version: str | None, notes: Sequence[str] = ()
) -> Accelerator | None:
    """The non-NVIDIA accelerator the installed packages or torch's build name, or the
    lines of a paste (its notes) where neither does; None."""
    for name, packages, cuda_build, road in _BY_PACKAGE:
        found = [p for p in packages if p in distributions]
        if found:
            evidence = ", ".join(f"{p} {distributions[p]}" for p in found)
            return Accelerator(name=name, evidence=evidence, cuda_build=cuda_build, road=road)
    return _by_torch(distributions, torch_version) or _by_line(notes)


def _by_line(notes: Sequence[str]) -> Accelerator | None:
    for note in notes:
        kind, _, line = note.removeprefix(ACCELERATOR_SEEN).partition(": ")
        if not note.startswith(ACCELERATOR_SEEN):
            continue
        if kind == "xpu":
            return _xpu(f"the paste's '{line}'")
        for name, _packages, cuda_build, road in _BY_PACKAGE:
            if name == _BY_LINE.get(kind):
                return Accelerator(
                    name=name, evidence=f"the paste's '{line}'", cuda_build=cuda_build, road=road
                )
    return None


def _xpu(evidence: str) -> Accelerator:
    return Accelerator(
        name="an Intel GPU (XPU) host",
        evidence=evidence,
        cuda_build="vendor",
        road="the +xpu build of torch is the one Intel GPUs run",
    )


def _by_torch(distributions: Mapping[str, str], torch_version: str | None) -> Accelerator | None:
    xpu = [
        f"{p} {v}"
        for p, v in (("torch", torch_version), *distributions.items())
        if p in ("torch", "intel-extension-for-pytorch") and v and v.endswith("+xpu")
    ]
    return _xpu(xpu[0]) if xpu else None
