"""The classes session 4's held-out part missed when it was scored once (issue 21, batch
issue21-s4: 20/23, one false error), each on the real report it was found on (now a tuning
report, marked seen) and on the same text changed so the rule must not fire."""

from __future__ import annotations

from envlock.checks import run_checks
from envlock.checks.triage import top_finding
from envlock.findings import Finding, Severity
from envlock.pasted import facts_from_texts
from tests.conftest import FIXTURES

CE = FIXTURES / "collect_env"


def _text(name: str) -> str:
    return (CE / name).read_text()


def _findings(text: str) -> list[Finding]:
    return run_checks(facts_from_texts(collect_env=text))


def _top(text: str) -> str | None:
    top = top_finding(_findings(text))
    return top.check_id if top else None


def _errors(text: str) -> list[str]:
    return [f.check_id for f in _findings(text) if f.severity is Severity.ERROR]


# a) torch's own capability warning in a paste flattened onto one line, no GPU lines


def test_a_flattened_paste_with_only_torchs_arch_warning_is_an_arch_error() -> None:
    """vllm#20922: a digest flattened onto one line, cut before its GPU lines; torch's warning
    names the GPU (RTX 5090, sm_120) and the build's arch list (sm_50 ... sm_90)."""
    text = _text("vllm-20922.txt")
    facts = facts_from_texts(collect_env=text)
    assert facts.driver.gpus is not None
    assert [(g.name, g.compute_capability) for g in facts.driver.gpus] == [
        ("NVIDIA GeForce RTX 5090", "12.0")
    ]
    assert facts.torch.live is not None and "sm_90" in facts.torch.live.arch_flags
    assert _top(text) == "EL-ARCH-UNSUPPORTED"


def test_without_the_warning_the_cut_paste_names_no_gpu() -> None:
    """The same paste without torch's warning: no GPU is observed, so no arch verdict."""
    text = _text("vllm-20922.txt")
    start = text.index("/usr/local/lib/python3.12/dist-packages/torch/cuda/__init__.py")
    end = text.index("warnings.warn(") + len("warnings.warn(")
    facts = facts_from_texts(collect_env=text[:start] + text[end:])
    assert facts.driver.gpus is None
    assert _top(text[:start] + text[end:]) != "EL-ARCH-UNSUPPORTED"


# b) torch's "Can't initialize NVML" with CUDA unavailable to a CUDA build


def test_nvml_warning_with_cuda_unavailable_to_a_cuda_build_is_no_driver() -> None:
    """vllm#3510: torch 2.1.2+cu121 in a Space with no GPU at startup: torch printed "Can't
    initialize NVML", CUDA is unavailable, the paste is cut before the GPU lines."""
    text = _text("vllm-3510.txt")
    assert _top(text) == "EL-NO-DRIVER"
    curly = text.replace("Can't initialize NVML", "Can\u2019t initialize NVML")
    assert _top(curly) == "EL-NO-DRIVER"


def test_nvml_warning_with_cuda_available_is_not_no_driver() -> None:
    """torch warns "Can't initialize NVML" where only NVML is missing (WSL, some containers)
    while CUDA works: CUDA available says the driver is there."""
    text = _text("vllm-3510.txt").replace("Is CUDA available: False", "Is CUDA available: True")
    assert "EL-NO-DRIVER" not in {f.check_id for f in _findings(text)}


def test_cuda_unavailable_without_the_nvml_warning_is_not_no_driver() -> None:
    """The same cut paste without torch's warning: CUDA unavailable alone says no why. (Its
    'CUDA runtime version: No CUDA' goes too: collect_env writes it only where it found no
    GPU and no driver either, which is a why: tests/pasted/test_no_cuda_runtime_line.py.)"""
    text = _text("vllm-3510.txt").replace("CUDA runtime version: No CUDA ", "")
    start = text.index("/usr/local/lib/python3.10")
    end = text.index('warnings.warn("Can\'t initialize NVML")') + len(
        'warnings.warn("Can\'t initialize NVML")'
    )
    assert "EL-NO-DRIVER" not in {f.check_id for f in _findings(text[:start] + text[end:])}


def test_nvml_warning_beside_a_cpu_build_is_not_no_driver() -> None:
    """A CPU build has no CUDA to be unavailable: the warning says nothing about a driver."""
    text = _text("vllm-3510.txt")
    for old, new in (
        ("2.1.2+cu121", "2.1.2+cpu"),
        ("CUDA used to build PyTorch: 12.1", "CUDA used to build PyTorch: None"),
    ):
        text = text.replace(old, new)
    assert "EL-NO-DRIVER" not in {f.check_id for f in _findings(text)}


# c) a CPU build where nvidia-smi observed no GPU or driver; a CUDA toolkit and cuDNN on disk


def test_cpu_build_with_a_toolkit_but_no_gpu_or_driver_is_no_error() -> None:
    """vllm#4568: torch 2.3.0+cpu for vLLM's CPU backend on an Azure VM image with CUDA 11.3
    and cuDNN 8.9 files but GPU and driver 'Could not collect': a toolkit is not a GPU."""
    text = _text("vllm-4568.txt")
    assert _errors(text) == []
    facts = facts_from_texts(collect_env=text)
    assert facts.driver.gpus == []


def test_cpu_build_beside_a_gpu_nvidia_smi_listed_is_an_error() -> None:
    """The same report where nvidia-smi did list a GPU and its driver: the CPU build is the
    cause of CUDA being unavailable."""
    text = _text("vllm-4568.txt").replace(
        "GPU models and configuration: Could not collect Nvidia driver version: Could not collect",
        "GPU models and configuration: GPU 0: NVIDIA A100-SXM4-80GB Nvidia driver version: 535.54.03",
    )
    assert _top(text) == "EL-TORCH-CPU-ONLY"
    assert "EL-TORCH-CPU-ONLY" in _errors(text)
