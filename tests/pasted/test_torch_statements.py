"""torch's own statements, enough to judge where the paste names no torch version (issue 21,
session 11, helper H8): 'Found no NVIDIA driver on your system' (EL-NO-DRIVER), 'Torch not
compiled with CUDA enabled' (EL-TORCH-CPU-ONLY), 'cuDNN version incompatibility: PyTorch was
compiled against (X) but found runtime version (Y)' (EL-CUDNN-INCOMPATIBLE, torch's compiled
cuDNN), 'NAME with CUDA capability sm_XY is not compatible with the current PyTorch
installation' with or without its arch list (EL-ARCH-UNSUPPORTED) - each read anywhere in a
line (after 'RuntimeError: ', quoted, backquoted, inside a sentence in another language), from
the tuning reports and the wordings of torch's releases; beside each, a text where it must not
fire."""

from __future__ import annotations

import pytest

from envlock.checks import run_checks
from envlock.checks.triage import top_finding
from envlock.errors import FactsError
from envlock.findings import Finding, Severity
from tests.conftest import FIXTURES
from tests.pasted.test_framework_reports import _errors, _facts, _top

CE = FIXTURES / "collect_env"


def _report(name: str) -> str:
    return (CE / name).read_text()


def _finding(text: str, check_id: str) -> Finding:
    found = [f for f in run_checks(_facts(text)) if f.check_id == check_id]
    assert found, f"no {check_id}"
    return found[0]


# ------------------------------------------------------------ 'Found no NVIDIA driver'
# torch >= 1.5 (c10/cuda's device count, one line) and torch < 1.5 (_check_driver's
# AssertionError, wrapped at 'you'): only a CUDA build raises either
NO_DRIVER_NEW = (
    "RuntimeError: Found no NVIDIA driver on your system. Please check that you have an NVIDIA "
    "GPU and installed a driver from http://www.nvidia.com/Download/index.aspx"
)
NO_DRIVER_OLD = (
    "AssertionError: \nFound no NVIDIA driver on your system. Please check that you\nhave an "
    "NVIDIA GPU and installed a driver from\nhttp://www.nvidia.com/Download/index.aspx"
)


@pytest.mark.parametrize(
    "text",
    [
        _report("AF-SfMLearner-39.txt"),  # inside a Chinese sentence
        _report("Bringing-Old-Photos-Back-to-Life-32.txt"),  # backquoted, nvcc beside it
        NO_DRIVER_OLD,
        f"I run `python train.py` and get '{NO_DRIVER_NEW}' every time\n",
        f"> {NO_DRIVER_NEW}\n",
    ],
    ids=["chinese-sentence", "backquoted", "torch-1.4", "quoted-in-prose", "blockquote"],
)
def test_torchs_no_driver_anywhere_is_el_no_driver(text: str) -> None:
    assert _top(text) == "EL-NO-DRIVER"
    finding = _finding(text, "EL-NO-DRIVER")
    assert "(its version not given) is a CUDA build" in finding.message
    assert "run on a machine with an NVIDIA GPU and driver" in (finding.fix or "")


def test_no_driver_message_beside_a_listed_gpu_or_a_cpu_build_is_not_el_no_driver() -> None:
    gpu = (
        f"{NO_DRIVER_NEW}\n"
        "GPU models and configuration: GPU 0: NVIDIA GeForce RTX 3090\n"
        "Nvidia driver version: 535.54.03\n"
    )
    cpu = f"{NO_DRIVER_NEW}\nPyTorch version: 2.1.0+cpu\nCUDA used to build PyTorch: None\n"
    smi = f"{NO_DRIVER_NEW}\n| NVIDIA-SMI 535.54.03    Driver Version: 535.54.03    CUDA Version: 12.2 |\n"
    for text in (gpu, cpu, smi):
        assert "EL-NO-DRIVER" not in {f.check_id for f in run_checks(_facts(text))}


# ------------------------------------------------ 'Torch not compiled with CUDA enabled'
@pytest.mark.parametrize("name", ["whisperX-983.txt", "WhisperLiveKit-284.txt", "MiniGPT-4-50.txt"])
def test_torchs_not_compiled_with_cuda_alone_is_a_cpu_build_error(name: str) -> None:
    text = _report(name)
    finding = top_finding(run_checks(_facts(text)))
    assert finding is not None and finding.check_id == "EL-TORCH-CPU-ONLY"
    assert finding.severity is Severity.ERROR
    assert "install a CUDA build of torch" in (finding.fix or "")


def test_not_compiled_inside_a_sentence_is_read_and_quiet_where_it_cannot_be_the_cause() -> None:
    said = "运行时报错 AssertionError: Torch not compiled with CUDA enabled\uff0c怎么办\uff1f\n"
    assert "EL-TORCH-CPU-ONLY" in _errors(said)
    # torch itself shown as a CUDA build: the message is another moment's
    tagged = "Torch 2.1.0+cu121\n" + said
    assert "EL-TORCH-CPU-ONLY" not in _errors(tagged)
    # macOS: no CUDA build of torch exists there, the code asks for what cannot be
    mac = "OS: macOS 14.2.1 (arm64)\n" + said
    assert "EL-TORCH-CPU-ONLY" not in _errors(mac)
    # a CUDA build's own report wins over the derived 'None'
    report = (
        "PyTorch version: 2.1.0+cu121\nCUDA used to build PyTorch: 12.1\n"
        "GPU models and configuration: GPU 0: NVIDIA GeForce RTX 4090\n"
        "Nvidia driver version: 545.23.08\n" + said
    )
    assert "EL-TORCH-CPU-ONLY" not in _errors(report)


# ------------------------------------------------ 'cuDNN version incompatibility'
@pytest.mark.parametrize(
    ("name", "compiled", "runtime"),
    [("gladia-928.txt", "8.5.0", "8.4.1"), ("bark-46.txt", "8.7.0", "8.6.0")],
)
def test_torchs_cudnn_check_states_the_compiled_cudnn(
    name: str, compiled: str, runtime: str
) -> None:
    text = _report(name)
    assert _top(text) == "EL-CUDNN-INCOMPATIBLE"
    finding = _finding(text, "EL-CUDNN-INCOMPATIBLE")
    assert finding.evidence["cudnn_compiled (torch's message)"] == compiled
    assert finding.evidence["cudnn_runtime"] == runtime
    assert f"load cuDNN {compiled} or a later 8.x" in (finding.fix or "")


def test_torch_1x_wording_backquoted_reads_and_numbers_torch_accepts_stay_quiet() -> None:
    old = "`RuntimeError: cuDNN version incompatibility: PyTorch was compiled against (7, 6, 5) but linked against (7, 4, 2)`\n"
    assert _finding(old, "EL-CUDNN-INCOMPATIBLE").evidence["cudnn_compiled (torch's message)"] == (
        "7.6.5"
    )
    # numbers torch's own rule accepts (same major, a later minor): not an incompatibility
    fine = (
        "cuDNN version incompatibility: PyTorch was compiled  against (8, 5, 0) but found "
        "runtime version (8, 9, 2)\n"
    )
    assert "EL-CUDNN-INCOMPATIBLE" not in _errors(fine)


# ------------------------------------------------ 'with CUDA capability sm_XY is not compatible'
def test_rvc_sm120_warning_with_a_windows_arch_list_is_arch_unsupported() -> None:
    text = _report("Retrieval-based-Voice-Conversion-WebUI-2486.txt")
    assert _top(text) == "EL-ARCH-UNSUPPORTED"
    finding = _finding(text, "EL-ARCH-UNSUPPORTED")
    # no official build has this list (a Windows wheel's sm_61 and compute_37): sm_37 bounds
    # its CUDA to 11.8, older than 12.8, the first that knew sm_120, so its PTX cannot serve
    assert "at most CUDA 11.8" in finding.message
    assert "sm_120" in (finding.fix or "")


def test_the_warnings_first_line_alone_settles_only_what_no_warned_build_runs() -> None:
    # torch 1.7.0's check is pytorch#45130's already (any sm_8x SASS keeps it quiet: the 1.7.0
    # wheel's torch/cuda/__init__.py), so only a build without sm_8x warns for an 8.6 GPU and
    # none of those runs it: an RTX 3090's first line alone settles it (mmdetection-9876)
    assert _top(_report("mmdetection-9876.txt")) == "EL-ARCH-UNSUPPORTED"
    # no official build without sm_120 SASS runs an RTX 5090: torch's word settles it
    quoted = (
        "got `UserWarning: NVIDIA GeForce RTX 5090 with CUDA capability sm_120 is not "
        "compatible with the current PyTorch installation.` on start\n"
    )
    assert _top(quoted) == "EL-ARCH-UNSUPPORTED"
    finding = _finding(quoted, "EL-ARCH-UNSUPPORTED")
    assert "holds no sm_12x kernels" in finding.message
    assert "sm_120" in (finding.fix or "")


def test_a_gpu_an_official_builds_ptx_serves_is_not_settled_by_the_warning_alone() -> None:
    # a major no official build has SASS for, that the cu128+ builds' compute_120 PTX runs
    # (torch's check counts no PTX): its word alone does not say the GPU has no kernels
    text = (
        "NVIDIA Future GPU with CUDA capability sm_130 is not compatible with the current "
        "PyTorch installation.\n"
    )
    assert "EL-ARCH-UNSUPPORTED" not in _errors(text)


# torch >= 2.8's _check_capability: the GPU's CC, then one line per CC of its arch list
CC_WARNING = (
    "UserWarning: Found GPU0 NVIDIA GeForce RTX 4090 which is of compute capability (CC) 8.9.\n"
    "The following list shows the CCs this version of PyTorch was built for and the hardware "
    "CCs it supports:\n"
    "- 7.5 which supports hardware CC >=7.5,<8.0\n"
    "- 8.0 which supports hardware CC >=8.0,<9.0 except {8.7}\n"
    "- 8.6 which supports hardware CC >=8.6,<9.0 except {8.7}\n"
)


def test_torchs_newest_capability_warning_wrapped_by_the_console_is_arch_unsupported() -> None:
    text = _report("InvokeAI-9532.txt")  # 'Found GPU0 NVIDIA GeFor' / 'ce GTX 1060 which ...'
    facts = _facts(text)
    assert [(g.name, g.compute_capability) for g in facts.driver.gpus or []] == [
        ("NVIDIA GeForce GTX 1060", "6.1")
    ]
    assert facts.torch.live is not None
    assert facts.torch.live.arch_flags == ["sm_75", "sm_80", "sm_86", "sm_90", "sm_100", "sm_120"]
    assert _top(text) == "EL-ARCH-UNSUPPORTED"
    assert "sm_61" in (_finding(text, "EL-ARCH-UNSUPPORTED").fix or "")


def test_a_gpu_its_list_serves_is_not_arch_unsupported_whatever_the_warning_says() -> None:
    # the list's 8.6 SASS runs an 8.9 GPU (same major, a later minor): no finding of kernels
    assert "EL-ARCH-UNSUPPORTED" not in _errors(CC_WARNING)
    pascal = CC_WARNING.replace("NVIDIA GeForce RTX 4090", "NVIDIA GeForce GTX 1080").replace(
        "(CC) 8.9", "(CC) 6.1"
    )
    assert "EL-ARCH-UNSUPPORTED" in _errors(pascal)


def test_a_mention_of_torchs_messages_is_not_this_machines_error() -> None:
    # a PR that fixes a CI job's cuDNN error (pytorch#104757): not raised here, no RuntimeError
    fixed = (
        "Should fix `cuDNN version incompatibility: PyTorch was compiled  against (8, 9, 2) but "
        "found runtime version (8, 8, 1).` error in [a CI job]\n"
    )
    with pytest.raises(FactsError):  # read as nothing at all: one line, exit 3, no finding
        _errors(fixed)
    # an example of torch's warning with the GPU's name elided (pytorch#166185)
    example = CC_WARNING.replace("NVIDIA GeForce RTX 4090", "...").replace("(CC) 8.9", "(CC) 9.0")
    assert _errors(example) == []
