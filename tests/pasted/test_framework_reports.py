"""More tools' environment printouts pasted into issue threads (issue 21): stable-diffusion-
webui's footer, version check and Sysinfo (envlock/pasted/webui.py), DeepSpeed's ds_report
(envlock/pasted/dsreport.py), Ultralytics' device line and Lightning's collect_env_details
(envlock/pasted/trainerenv.py), `python -m bitsandbytes` (envlock/pasted/bnbdiag.py); ComfyUI's
and session 9's launch logs are in test_launch_log_reports.py.
Each is real pasted text (cut at whole lines, its thread named) or the tool's source format,
read as the collect_env facts it holds and judged by the existing checks; beside each, a
lookalike or another tool's line the reader must not take."""

from __future__ import annotations

import json

import pytest

from envlock.checks import run_checks
from envlock.checks.triage import top_finding
from envlock.facts import Facts
from envlock.findings import Severity
from envlock.pasted import facts_from_texts
from envlock.pasted.bnbdiag import read_bnb_diagnostics
from envlock.pasted.dsreport import read_ds_report
from envlock.pasted.trainerenv import read_lightning, read_ultralytics
from envlock.pasted.webui import read_webui
from tests.conftest import FIXTURES


def _facts(text: str) -> Facts:
    return facts_from_texts(collect_env=text)


CE = FIXTURES / "collect_env"


def _errors(text: str) -> list[str]:
    return [f.check_id for f in run_checks(_facts(text)) if f.severity is Severity.ERROR]


def _top(text: str) -> str | None:
    top = top_finding(run_checks(_facts(text)))
    return top.check_id if top else None


def _gpus(facts: Facts) -> list[str]:
    return [g.name for g in (facts.driver.gpus or [])]


def _available(facts: Facts) -> bool | None:
    return facts.torch.live.cuda_available if facts.torch.live else None


# ------------------------------------------------------------ stable-diffusion-webui
# https://github.com/Bing-su/adetailer/issues/273 (the footer copied one field a line)
WEBUI_FOOTER_LINES = """I get the same thing in
version: v1.5.1-450-gf37cc5f5
python: 3.10.9
torch: 2.0.1+cu118
xformers: 0.0.21.dev556
gradio: 3.39.0
any checkpoint
"""
# modules/ui.py versions_html as the browser shows it (one line, '•' between the fields)
WEBUI_FOOTER = (
    "version: v1.10.1  \u2022  python: 3.10.11  \u2022  torch: 2.1.2+cu121  \u2022  "
    "xformers: N/A  \u2022  gradio: 3.41.2  \u2022  checkpoint: 6ce0161689\n"
)


def test_webui_footer_pasted_a_field_a_line_reads_torch_python_and_xformers() -> None:
    facts = _facts(WEBUI_FOOTER_LINES)
    assert facts.torch.version == "2.0.1+cu118"
    assert facts.torch.cuda == "11.8"
    assert facts.system.python is not None and facts.system.python.version == "3.10.9"
    assert facts.packages.distributions.get("xformers") == "0.0.21.dev556"
    assert _errors(WEBUI_FOOTER_LINES) == []


def test_webui_footer_on_one_line_reads_torch_not_an_na_xformers() -> None:
    reading = read_webui(WEBUI_FOOTER)
    assert reading is not None
    assert reading.fields == {"PyTorch version": "2.1.2+cu121", "Python version": "3.10.11"}
    assert reading.packages == {}  # 'xformers: N/A' is none loaded


def test_a_lone_torch_field_is_not_the_footer() -> None:
    # a requirements-style list or another tool's 'torch:' line without the footer's fields
    assert read_webui("python: 3.10.9\ntorch: 2.0.1+cu118\nnumpy: 1.26.4\n") is None
    # read since session 11 as a hand-written list (pasted/prose: torch's version right after a
    # torch word), not as the webui's footer: nothing of the footer's is taken from it
    facts = _facts("python: 3.10.9\ntorch: 2.0.1+cu118\nnumpy: 1.26.4\n")
    assert facts.torch.version == "2.0.1+cu118"
    assert [n for n in facts.meta.notes if "own words" in n] == [
        "facts written in the report's own words (prose, a hand-written list): read torch 2.0.1+cu118"
    ]
    assert not any("webui" in n.lower() or "footer" in n for n in facts.meta.notes)


# https://github.com/TheLastBen/fast-stable-diffusion/issues/2779 (modules/errors.check_versions)
WEBUI_VERSION_CHECK = """=================================================================================
You are running torch 2.1.0+cu118.
The program is tested to work with torch 2.1.2.
To reinstall the desired version, run with commandline flag --reinstall-torch.
"""


def test_webui_version_check_reads_torch_only_with_its_second_line() -> None:
    reading = read_webui(WEBUI_VERSION_CHECK)
    assert reading is not None and reading.fields == {"PyTorch version": "2.1.0+cu118"}
    # the first line alone (prose, or another launcher's sentence) is not read
    assert read_webui("You are running torch 2.1.0+cu118.\nPlease upgrade.\n") is None


def _sysinfo(torch_env: object) -> str:
    """modules/sysinfo.get() as the bug template's Sysinfo field holds it: json.dumps(indent=4)
    of get_dict(), whose "Torch env info" is get_env_info()._asdict() with multi-line values
    split into lists (values of a Windows machine with an RTX 3060 and torch 2.1.2+cu121)."""
    return json.dumps(
        {
            "Platform": "Windows-10-10.0.22631-SP0",
            "Python": "3.10.6",
            "Version": "v1.9.4",
            "Commit": "feee37d75f1b168768014e4634dcb156ee649c05",
            "Checksum": "0" * 64,
            "Commandline": ["launch.py", "--xformers"],
            "Torch env info": torch_env,
            "Exceptions": [],
            "CPU": {"model": "Intel64 Family 6 Model 151 Stepping 2, GenuineIntel"},
        },
        ensure_ascii=False,
        indent=4,
    )


TORCH_ENV = {
    "torch_version": "2.1.2+cu121",
    "is_debug_build": "False",
    "cuda_compiled_version": "12.1",
    "gcc_version": None,
    "clang_version": None,
    "cmake_version": None,
    "os": "Microsoft Windows 11 Pro",
    "libc_version": "N/A",
    "python_version": "3.10.6 (tags/v3.10.6:9c7b4bd, Aug  1 2022, 21:53:49) [MSC v.1932 64 bit (AMD64)] (64-bit runtime)",
    "python_platform": "Windows-10-10.0.22631-SP0",
    "is_cuda_available": "True",
    "cuda_runtime_version": None,
    "cuda_module_loading": "LAZY",
    "nvidia_gpu_models": "GPU 0: NVIDIA GeForce RTX 3060",
    "nvidia_driver_version": "546.33",
    "cudnn_version": None,
    "pip_version": "pip3",
    "pip_packages": ["numpy==1.26.2", "open-clip-torch==2.20.0", "torch==2.1.2+cu121"],
    "conda_packages": "",
    "hip_compiled_version": "N/A",
}


def test_webui_sysinfo_reads_torch_env_info_as_collect_env() -> None:
    facts = _facts(_sysinfo(TORCH_ENV))
    assert facts.torch.version == "2.1.2+cu121"
    assert facts.torch.cuda == "12.1"
    assert _available(facts) is True
    assert _gpus(facts) == ["NVIDIA GeForce RTX 3060"]
    assert facts.driver.version == "546.33"
    assert _errors(_sysinfo(TORCH_ENV)) == []


def test_webui_sysinfo_without_torch_env_fields_reads_nothing() -> None:
    # collect_env failed: sysinfo stores the exception's text, no fields
    assert read_webui(_sysinfo("No module named 'torch.utils.collect_env'")) is None
    # CUDA unavailable on a driver older than CUDA 12's: the existing check fires on the dump
    old = dict(TORCH_ENV, nvidia_driver_version="516.94", is_cuda_available="False")
    assert "EL-DRIVER-TOO-OLD" in _errors(_sysinfo(old))


# ------------------------------------------------------------ DeepSpeed's ds_report
# https://github.com/deepspeedai/DeepSpeed/pull/6762 (a maintainer's ds_report, the 'After' one)
DS_REPORT = """DeepSpeed general environment info:
torch install path ............... ['/home/deepspeed/test/trans-venv/lib/python3.12/site-packages/torch']
torch version .................... 2.3.0+cu121
deepspeed install path ........... ['/home/deepspeed/test/trans-venv/lib/python3.12/site-packages/deepspeed']
deepspeed info ................... 0.15.5+46d7d0d1, 46d7d0d1, patch-1
torch cuda version ............... 12.1
torch hip version ................ None
nvcc version ..................... 12.0
deepspeed wheel compiled w. ...... torch 0.0, cuda 0.0
shared memory (/dev/shm) size .... 125.77 GB
"""
# https://github.com/deepspeedai/DeepSpeed/issues/4576: the fields quoted in prose, and the
# op report's head, without the general environment info
DS_PROSE = (
    "and in the `ds_report` informations, torch version .................... 1.13.1+cu117 , "
    "and deepspeed wheel compiled w. ...... torch 1.9, cuda 11.1\uff0c Is there any problem "
    "here\uff1f\n"
    + """
**ds_report output**
```
[2023-10-27 12:01:25,875] [INFO] [real_accelerator.py:158:get_accelerator] Setting ds_accelerator to cuda (auto detect)
--------------------------------------------------
DeepSpeed C++/CUDA extension op report
--------------------------------------------------
"""
)


def test_ds_report_reads_torch_its_cuda_and_nvcc() -> None:
    reading = read_ds_report(DS_REPORT)
    assert reading is not None
    assert reading.fields == {
        "PyTorch version": "2.3.0+cu121",
        "CUDA used to build PyTorch": "12.1",
        "CUDA runtime version": "12.0",
    }
    facts = _facts(DS_REPORT)
    assert facts.torch.version == "2.3.0+cu121"
    assert facts.cuda.toolkit is not None and facts.cuda.toolkit.nvcc_version == "12.0"
    assert _errors(DS_REPORT) == []


def test_ds_report_fields_quoted_in_prose_are_not_the_report() -> None:
    assert read_ds_report(DS_PROSE) is None


def test_ds_report_on_rocm_reads_the_hip_build() -> None:
    # the same lines on a ROCm machine (debug_report: hip's version, no nvcc)
    text = DS_REPORT.replace("2.3.0+cu121", "2.3.0+rocm6.0").replace(
        "torch cuda version ............... 12.1\ntorch hip version ................ None\n"
        "nvcc version ..................... 12.0",
        "torch cuda version ............... None\ntorch hip version ................ "
        "6.0.32830-d62f6a171\nnvcc version ..................... None",
    )
    reading = read_ds_report(text)
    assert reading is not None
    assert reading.fields == {
        "PyTorch version": "2.3.0+rocm6.0",
        "ROCM used to build PyTorch": "6.0",
    }


# ------------------------------------------------------------ Ultralytics
# https://github.com/ultralytics/ultralytics/pull/19833 (torch's own warning, then the line)
YOLO_5090 = """/usr/local/lib/python3.10/dist-packages/torch/cuda/__init__.py:235: UserWarning:
NVIDIA GeForce RTX 5090 with CUDA capability sm_120 is not compatible with the current PyTorch installation.
The current PyTorch install supports CUDA capabilities sm_50 sm_60 sm_70 sm_75 sm_80 sm_86 sm_90.
If you want to use the NVIDIA GeForce RTX 5090 GPU with PyTorch, please check the instructions at https://pytorch.org/get-started/locally/
  warnings.warn(
Ultralytics 8.3.95 \U0001f680 Python-3.10.12 torch-2.6.0+cu124 CUDA:0 (NVIDIA GeForce RTX 5090, 32120MiB)
"""
# https://github.com/ultralytics/ultralytics/issues/20123
YOLO_4080 = """PS G:\\Code\\Model Training> python train.py
Ultralytics 8.3.106 \U0001f680 Python-3.13.3 torch-2.6.0+cu126 CUDA:0 (NVIDIA GeForce RTX 4080 SUPER, 16376MiB)
"""
# https://github.com/SunOner/sunone_aimbot/issues/36 (`yolo checks`)
YOLO_CHECKS = (
    "Ultralytics YOLOv8.0.221 \U0001f680 Python-3.11.6 torch-2.1.1+cu121 "
    "CUDA:0 (NVIDIA GeForce GTX 1650 SUPER, 4096MiB)\n"
    + """Setup complete \u2705 (12 CPUs, 15.9 GB RAM, 101.6/111.2 GB disk)

OS                  Windows-10-10.0.18363-SP0
Environment         Windows
Python              3.11.6
CUDA                12.1
"""
)


def test_ultralytics_line_on_an_rtx_5090_with_a_cu124_build_has_no_kernel_image() -> None:
    facts = _facts(YOLO_5090)
    assert facts.torch.version == "2.6.0+cu124"
    assert _gpus(facts) == ["NVIDIA GeForce RTX 5090"]
    assert _available(facts) is True
    assert "EL-ARCH-UNSUPPORTED" in _errors(YOLO_5090)


@pytest.mark.parametrize("text", [YOLO_4080, YOLO_CHECKS], ids=["train", "checks"])
def test_ultralytics_line_of_a_healthy_machine_is_quiet(text: str) -> None:
    facts = _facts(text)
    assert facts.torch.version is not None and facts.torch.version in text
    assert _available(facts) is True and len(_gpus(facts)) == 1
    assert _errors(text) == []


def test_ultralytics_multi_gpu_lines_and_a_cpu_line() -> None:
    # select_device prints one line per device, the next ones under the first
    lead = "YOLOv5 \U0001f680 v7.0-72-g064365d Python-3.10.9 torch-1.13.1+cu116 "
    text = f"{lead}CUDA:0 (Tesla T4, 15110MiB)\n{' ' * len(lead)}CUDA:1 (Tesla T4, 15110MiB)\n"
    reading = read_ultralytics(text)
    assert reading is not None and reading.gpus == {0: "Tesla T4", 1: "Tesla T4"}
    # 'CPU (...)' may be the user's choice: nothing said of CUDA, no GPU
    cpu = read_ultralytics(
        "Ultralytics 8.1.0 \U0001f680 Python-3.10.12 torch-2.1.0+cu121 CPU (Intel Xeon 2.20GHz)\n"
    )
    assert cpu is not None and "Is CUDA available" not in cpu.fields and cpu.gpus == {}
    # another tool's 'torch-2.1.0' (a wheel name) is not the line
    assert (
        read_ultralytics("Python-3.10.12 torch-2.1.0+cu121-cp310-cp310-linux_x86_64.whl\n") is None
    )


# ------------------------------------------------------------ PyTorch Lightning
# https://github.com/Lightning-AI/pytorch-lightning/issues/20682 (tabs turned to spaces)
LIGHTNING = """* CUDA:
        - GPU:
                - NVIDIA GeForce RTX 4090
                - NVIDIA GeForce RTX 4090
                - NVIDIA GeForce RTX 4090
                - NVIDIA GeForce RTX 4090
        - available:         True
        - version:           11.8
* Lightning:
        - lightning:         2.5.1
        - lightning-utilities: 0.14.2
        - pytorch-lightning: 2.5.1
        - pytorch3d:         0.7.8
        - raytorch:          0.1.0+aeaaf25
        - torch:             2.6.0+cu118
        - torchaudio:        2.6.0+cu118
        - torchmetrics:      1.7.0
        - torchvision:       0.21.0+cu118
* Packages:
        - addict:            2.4.0
"""
# https://github.com/Lightning-AI/pytorch-lightning/pull/14118 (tabs kept)
LIGHTNING_K80 = """* CUDA:
\t- GPU:
\t\t- Tesla K80
\t\t- Tesla K80
\t- available:         True
\t- version:           11.3
* Lightning:
\t- lightning:         2022.8.18
\t- torch:             1.11.0
\t- torchvision:       0.12.0
"""


def test_lightning_details_read_gpus_availability_and_torch() -> None:
    facts = _facts(LIGHTNING)
    assert facts.torch.version == "2.6.0+cu118"
    assert facts.torch.cuda == "11.8"
    assert _available(facts) is True
    assert _gpus(facts) == ["NVIDIA GeForce RTX 4090"] * 4
    assert _errors(LIGHTNING) == []


def test_lightning_details_with_k80s_and_torch_1_11_are_served() -> None:
    # torch 1.11's CUDA 11.3 wheels still hold sm_37: the K80 is served, nothing fires
    facts = _facts(LIGHTNING_K80)
    assert facts.torch.version == "1.11.0"
    assert facts.torch.cuda == "11.3"
    assert _gpus(facts) == ["Tesla K80", "Tesla K80"]
    assert _errors(LIGHTNING_K80) == []


def test_lightning_2020_layout_and_an_available_line_elsewhere() -> None:
    # https://github.com/Lightning-AI/pytorch-lightning/pull/1234 (Lightning 0.7's sample): no
    # '* ' or '- ' marks, pyTorch_version under packages
    old = (
        "cuda:\n\tGPU:\n\t\tGeForce GTX 1050\n\tavailable:           True\n\tversion:             10.0\n"
        "packages:\n\tnumpy:               1.18.1\n\tpyTorch_debug:       False\n"
        "\tpyTorch_version:     1.4.0+cu100\n\tpytorch-lightning:   0.7.2-dev\n"
    )
    reading = read_lightning(old)
    assert reading is not None
    assert reading.fields["PyTorch version"] == "1.4.0+cu100"
    assert reading.fields["Is CUDA available"] == "True"
    assert reading.fields["CUDA used to build PyTorch"] == "10.0"
    assert reading.gpus == {0: "GeForce GTX 1050"}
    # 'available: True' outside a CUDA section (a service's status list) is not Lightning's
    assert read_lightning("status:\n  - available: True\n  - torch: 2.1.0\n") is None


# scverse/scvi-tools#2031 (corpus scvi-tools-2031): the Trainer's device banner, Lightning 2.x
BANNER = """\
GPU available: True (cuda), used: True
TPU available: False, using: 0 TPU cores
IPU available: False, using: 0 IPUs
HPU available: False, using: 0 HPUs
LOCAL_RANK: 0 - CUDA_VISIBLE_DEVICES: [0]
"""


def test_the_trainers_device_banner_says_whether_torch_sees_cuda() -> None:
    reading = read_lightning(BANNER)
    assert reading is not None and reading.fields == {"Is CUDA available": "True"}
    # scvi-tools-2031 (a healthy conda env whose paste is cut before torch): read, no error
    assert _errors((CE / "scvi-tools-2031.txt").read_text()) == []
    # before 1.7 the banner named no accelerator: torch.cuda.is_available()'s answer
    old = read_lightning(BANNER.replace("True (cuda), used: True", "False, used: False"))
    assert old is not None and old.fields == {"Is CUDA available": "False"}


def test_another_accelerators_banner_or_two_that_disagree_read_nothing() -> None:
    assert read_lightning(BANNER.replace("(cuda)", "(mps)")) is None
    assert read_lightning(BANNER.replace("(cuda)", "(xpu)")) is None
    other_run = BANNER.replace("True (cuda), used: True", "False, used: False")
    assert read_lightning(BANNER + "\n" + other_run) is None
    # the words without the banner's ', used: ' (a service's status) are not Lightning's
    assert read_lightning("GPU available: True\nstatus: ok\n") is None


# ------------------------------------------------------------ bitsandbytes' diagnostics
def _bnb(torch: str, cuda: str, last: str) -> str:
    """`python -m bitsandbytes` as bitsandbytes/diagnostics/main.py prints it (0.46+): the
    header (print_header, 60 wide), show_environment(), then the CUDA specs or the no-GPU line."""
    return (
        f"{' bitsandbytes v0.46.0 '.center(60, '=')}\n"
        "Platform: Linux-6.8.0-57-generic-x86_64-with-glibc2.39\n  libc: glibc-2.39\n"
        f"Python: 3.12.3\nPyTorch: {torch}\n  CUDA: {cuda}\n  HIP: N/A\n  XPU: N/A\n"
        "Related packages:\n  accelerate: 1.7.0\n  numpy: 2.2.6\n  transformers: 4.52.4\n"
        f"{'=' * 60}\n{last}\n"
    )


BNB_GPU = _bnb(
    "2.7.0+cu126",
    "12.6",
    "PyTorch settings found: CUDA_VERSION=126, Highest Compute Capability: (8, 6).",
)
BNB_CPU = _bnb(
    "2.7.0+cpu", "N/A", "No CUDA, ROCm, or XPU detected; CPU library loaded successfully."
)


def test_bnb_diagnostics_read_torch_its_cuda_and_availability() -> None:
    facts = _facts(BNB_GPU)
    assert facts.torch.version == "2.7.0+cu126"
    assert facts.torch.cuda == "12.6"
    assert _available(facts) is True
    assert _errors(BNB_GPU) == []


def test_bnb_diagnostics_on_a_cpu_build_is_cpu_only() -> None:
    facts = _facts(BNB_CPU)
    assert facts.torch.build == "cpu"
    assert _available(facts) is False
    assert "EL-TORCH-CPU-ONLY" in [f.check_id for f in run_checks(facts)]


def test_bnb_lines_without_its_header_are_not_read() -> None:
    # another tool's 'PyTorch: 2.7.0' (check_env-like) with no bitsandbytes header
    body = BNB_GPU.split("\n", 1)[1]
    assert read_bnb_diagnostics(body) is None
    # the 0.43-0.45 report prints no torch version: nothing is read from it
    old = (
        f"{' BUG REPORT INFORMATION '.center(60, '=')}\n"
        "CUDA specs: CUDASpecs(highest_compute_capability=(8, 6), cuda_version_string='121', "
        "cuda_version_tuple=(12, 1), cudart_path=None)\n"
    )
    assert read_bnb_diagnostics(old) is None
