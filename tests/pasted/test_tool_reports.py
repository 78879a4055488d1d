"""Other tools' environment reports pasted to `doctor --collect-env` (issue 21, session 8's
batches): Hugging Face's "- Key: value" lists (lerobot-info, transformers/diffusers/accelerate
env), an application's System Info list and one written by hand, xFormers' load warning and
xformers.info, launch logs (SD.Next, kohya_ss, Unsloth's banner). Each is read as the
collect_env facts it holds (envlock/pasted/toolenv.py) and judged by the existing checks:
a case where the finding fires, from the real report, and one where it must not."""

from __future__ import annotations

import pytest

from envlock.checks import run_checks
from envlock.checks.triage import top_finding
from envlock.errors import FactsError
from envlock.facts import Facts
from envlock.findings import Severity
from envlock.pasted import facts_from_texts
from tests.conftest import FIXTURES

CE = FIXTURES / "collect_env"


def _facts(text: str) -> Facts:
    return facts_from_texts(collect_env=text)


def _report(name: str) -> str:
    return (CE / name).read_text()


def _top(text: str) -> str | None:
    top = top_finding(run_checks(_facts(text)))
    return top.check_id if top else None


def _errors(text: str) -> list[str]:
    return [f.check_id for f in run_checks(_facts(text)) if f.severity is Severity.ERROR]


# ------------------------------------------------------------ Hugging Face's env lists
def test_lerobot_0_1_list_reads_torch_its_cuda_and_availability() -> None:
    # lerobot-1317: 'PyTorch version (GPU?): 2.6.0+cu118 (True)', 'Cuda version: 11080'
    facts = _facts(_report("lerobot-1317.txt"))
    assert facts.torch.version == "2.6.0+cu118"
    assert facts.torch.cuda == "11.8"
    assert facts.torch.live is not None and facts.torch.live.cuda_available is True
    assert facts.system.python is not None and facts.system.python.version == "3.10.16"
    assert facts.system.kernel == "6.8.0-58-generic"
    assert _errors(_report("lerobot-1317.txt")) == []


def test_lerobot_info_reads_the_gpu_model_and_stays_quiet_when_healthy() -> None:
    # lerobot-2105: torch 2.7.1+cu126 on an A800, CUDA available
    facts = _facts(_report("lerobot-2105.txt"))
    assert facts.torch.version == "2.7.1+cu126"
    assert [g.name for g in (facts.driver.gpus or [])] == ["NVIDIA A800 80GB PCIe"]
    assert _errors(_report("lerobot-2105.txt")) == []


def test_lerobot_info_cpu_build_on_a_jetson_is_cpu_only() -> None:
    # lerobot-2363: 'PyTorch version: 2.7.1+cpu' on a tegra kernel ('GPU model: N/A' is
    # what lerobot prints when CUDA is unavailable: no GPU is read from it)
    facts = _facts(_report("lerobot-2363.txt"))
    assert facts.torch.build == "cpu"
    assert facts.system.arch == "aarch64"
    assert (facts.driver.gpus or []) == []
    assert _top(_report("lerobot-2363.txt")) == "EL-TORCH-CPU-ONLY"


def test_transformers_env_with_a_gpu_type_and_accelerate_env_quiet() -> None:
    # transformers-cli env's and accelerate env's own keys, a healthy CUDA build
    text = (
        "- `transformers` version: 4.46.2\n"
        "- Platform: Linux-5.15.0-91-generic-x86_64-with-glibc2.35\n"
        "- Python version: 3.10.12\n"
        "- PyTorch version (GPU?): 2.5.1+cu124 (True)\n"
        "- Using GPU in script?: <fill in>\n"
        "- GPU type: NVIDIA A100-SXM4-80GB\n"
    )
    facts = _facts(text)
    assert [(g.name, g.compute_capability) for g in (facts.driver.gpus or [])] == [
        ("NVIDIA A100-SXM4-80GB", None)
    ]
    assert _errors(text) == []
    # the same list from a CPU-only build beside that GPU
    cpu = text.replace("2.5.1+cu124 (True)", "2.5.1+cpu (False)")
    assert _top(cpu) == "EL-TORCH-CPU-ONLY"


def test_diffusers_accelerator_line_is_nvidia_smis_name_and_memory() -> None:
    text = (
        "- 🤗 Diffusers version: 0.31.0\n"
        "- Platform: Linux-6.5.0-35-generic-x86_64-with-glibc2.35\n"
        "- PyTorch version (GPU?): 2.4.1+cu121 (True)\n"
        "- Accelerator: NVIDIA GeForce RTX 3090, 24576 MiB\n"
        "- xFormers version: 0.0.28.post1\n"
    )
    facts = _facts(text)
    assert [g.name for g in (facts.driver.gpus or [])] == ["NVIDIA GeForce RTX 3090"]
    assert _errors(text) == []


def test_a_list_without_torch_or_with_another_vendors_gpu_is_not_guessed() -> None:
    with pytest.raises(FactsError):
        _facts("- lerobot version: 0.4.1\n- PyTorch version: N/A\n- GPU model: N/A\n")
    amd = "- PyTorch version (GPU?): 2.4.1+rocm6.1 (True)\n- GPU type: AMD Radeon RX 7900 XTX\n"
    assert (_facts(amd).driver.gpus or []) == []


# ------------------------------------------------ an app's System Info, a hand-written list
def test_app_system_info_list_with_bold_keys_is_read() -> None:
    # EZ-CorridorKey-87: '- **PyTorch:** 2.9.1+cu130', '- **GPU:** NVIDIA GeForce GTX 1080 Ti'
    facts = _facts(_report("EZ-CorridorKey-87.txt"))
    assert facts.torch.version == "2.9.1+cu130"
    assert [g.name for g in (facts.driver.gpus or [])] == ["NVIDIA GeForce GTX 1080 Ti"]
    assert facts.system.os is not None and facts.system.os.id == "windows"
    assert _top(_report("EZ-CorridorKey-87.txt")) == "EL-ARCH-UNSUPPORTED"
    # the build with Pascal kernels the maintainer moved 10-series cards to: no error
    older = _report("EZ-CorridorKey-87.txt").replace("2.9.1+cu130", "2.8.0+cu126")
    assert "EL-ARCH-UNSUPPORTED" not in _errors(older)


def test_hand_list_cuda_version_is_the_drivers_not_torchs() -> None:
    # pytorch-160804: '**CUDA Version**: 12.8 (Driver 570.181)' is nvidia-smi's
    text = _report("pytorch-160804.txt")
    facts = _facts(text)
    assert facts.torch.cuda == "12.1"
    assert facts.driver.version == "570.181"
    assert _top(text) == "EL-ARCH-UNSUPPORTED"
    # the CUDA 12.8 build the maintainer named: no error
    assert _errors(text.replace("2.2.0+cu121", "2.7.0+cu128")) == []


def test_hand_list_with_backticks_cpu_build_beside_a_gpu() -> None:
    # lerobot-4093: 'PyTorch: `2.11.0+cpu`', 'GPU: NVIDIA GeForce RTX 5080 (16 GB)',
    # 'NVIDIA driver: `580.88`'
    text = _report("lerobot-4093.txt")
    facts = _facts(text)
    assert facts.driver.version == "580.88"
    assert [g.name for g in (facts.driver.gpus or [])] == ["NVIDIA GeForce RTX 5080"]
    findings = run_checks(facts)
    top = top_finding(findings)
    assert top is not None and top.check_id == "EL-TORCH-CPU-ONLY"
    assert top.severity is Severity.ERROR
    cuda = text.replace("2.11.0+cpu", "2.11.0+cu130").replace("build: `None`", "build: `13.0`")
    assert _errors(cuda) == []


# ----------------------------------------------------------------------- xFormers
def test_xformers_warning_cpu_torch_is_cpu_only() -> None:
    # PIA-30: 'PyTorch 2.1.2+cu121 with CUDA 1201 (you have 2.1.2+cpu)'
    facts = _facts(_report("PIA-30.txt"))
    assert facts.torch.version == "2.1.2+cpu"
    assert [(e.distribution, e.cuda_major) for e in facts.extensions.items] == [("xformers", 12)]
    assert _top(_report("PIA-30.txt")) == "EL-TORCH-CPU-ONLY"


def test_xformers_built_for_another_cuda_major_is_ext_cuda_major() -> None:
    # a recorded warning (a public repository's copy): cu118 wheel beside a cu121 torch
    text = (
        "WARNING[XFORMERS]: xFormers can't load C++/CUDA extensions. xFormers was built for:\n"
        "    PyTorch 2.2.1+cu118 with CUDA 1108 (you have 2.2.2+cu121)\n"
        "    Python  3.10.11 (you have 3.10.11)\n"
    )
    assert _top(text) == "EL-EXT-CUDA-MAJOR"
    # ComfyUI-SUPIR-35: CUDA 1201 beside +cu121, the same major: not that finding; the
    # other torch release it was built for is said in a note
    facts = _facts(_report("ComfyUI-SUPIR-35.txt"))
    assert facts.torch.version == "2.1.2+cu121"
    assert "EL-EXT-CUDA-MAJOR" not in _errors(_report("ComfyUI-SUPIR-35.txt"))
    assert any("built for torch 2.2.0+cu121" in n for n in facts.meta.notes)


# `python -m xformers.info` on a Tesla K80, as a public repository's notes record it
XFORMERS_INFO = """\
shawnstark@visual-headsup-jammy:~$ python3 -m xformers.info
Blocksparse is not available: the current GPU does not expose Tensor cores
xFormers 0.0.22+a24a6e3.d20230821
memory_efficient_attention.cutlassF:               available
memory_efficient_attention.cutlassB:               available
memory_efficient_attention.decoderF:               available
memory_efficient_attention.flshattF@v2.0.8:        available
memory_efficient_attention.flshattB@v2.0.8:        available
memory_efficient_attention.smallkF:                available
memory_efficient_attention.smallkB:                available
memory_efficient_attention.tritonflashattF:        unavailable
memory_efficient_attention.tritonflashattB:        unavailable
indexing.scaled_index_addF:                        available
indexing.scaled_index_addB:                        available
indexing.index_select:                             available
swiglu.dual_gemm_silu:                             available
swiglu.gemm_fused_operand_sum:                     available
swiglu.fused.p.cpp:                                available
is_triton_available:                               True
is_functorch_available:                            False
pytorch.version:                                   1.12.1+cu113
pytorch.cuda:                                      available
gpu.compute_capability:                            3.7
gpu.name:                                          Tesla K80
build.info:                                        available
build.cuda_version:                                1104
build.python_version:                              3.10.12
build.torch_version:                               1.12.1+cu113
build.env.TORCH_CUDA_ARCH_LIST:                    None
build.env.XFORMERS_BUILD_TYPE:                     None
build.env.XFORMERS_ENABLE_DEBUG_ASSERTIONS:        None
build.env.NVCC_FLAGS:                              None
build.env.XFORMERS_PACKAGE_FROM:                   None
build.nvcc_version:                                11.4.100
source.privacy:                                    open source
"""


def test_xformers_info_rows_read_even_when_unwrapping_joined_them() -> None:
    # its rows are padded to one width, so the layout step joins them as if hard-wrapped
    facts = _facts(XFORMERS_INFO)
    assert facts.torch.version == "1.12.1+cu113"
    assert [(g.name, g.compute_capability) for g in (facts.driver.gpus or [])] == [
        ("Tesla K80", "3.7")
    ]
    assert [(e.distribution, e.cuda_major) for e in facts.extensions.items] == [("xformers", 11)]
    assert _errors(XFORMERS_INFO) == []
    # the same rows from a wheel built with CUDA 12.1 beside that cu113 torch
    cuda12 = XFORMERS_INFO.replace(
        "build.cuda_version:                                1104",
        "build.cuda_version:                                1201",
    )
    assert _top(cuda12) == "EL-EXT-CUDA-MAJOR"


# the end of `python -m xformers.info` on an A100 (xFormers 0.0.20's wheel), as a public
# repository's setup notes record it
XFORMERS_A100 = """\
is_triton_available:                               True
is_functorch_available:                            False
pytorch.version:                                   2.0.1+cu117
pytorch.cuda:                                      available
gpu.compute_capability:                            8.0
gpu.name:                                          NVIDIA A100-SXM4-40GB
build.info:                                        available
build.cuda_version:                                1108
build.python_version:                              3.10.11
build.torch_version:                               2.0.1+cu118
build.env.TORCH_CUDA_ARCH_LIST:                    5.0+PTX 6.0 6.1 7.0 7.5 8.0 8.6
build.env.XFORMERS_BUILD_TYPE:                     Release
build.env.XFORMERS_ENABLE_DEBUG_ASSERTIONS:        None
build.env.NVCC_FLAGS:                              None
build.env.XFORMERS_PACKAGE_FROM:                   wheel-v0.0.20
build.nvcc_version:                                11.8.89
source.privacy:                                    open source
"""


def _on(gpu: str, capability: str, text: str = XFORMERS_A100) -> str:
    return text.replace("8.0\ngpu.name:", f"{capability}\ngpu.name:").replace(
        "NVIDIA A100-SXM4-40GB", gpu
    )


def test_xformers_build_arch_list_is_its_extensions_gpu_code() -> None:
    facts = _facts(XFORMERS_A100)
    [ext] = facts.extensions.items
    assert ext.sass == ["sm_50", "sm_60", "sm_61", "sm_70", "sm_75", "sm_80", "sm_86"]
    assert ext.ptx == ["compute_50"]
    assert _errors(XFORMERS_A100) == []
    # on an H100 (9.0, with a torch that has sm_90): only its compute_50 PTX serves it
    h100 = _on("NVIDIA H100 80GB HBM3", "9.0", XFORMERS_A100.replace("2.0.1+cu117", "2.0.1+cu118"))
    assert _top(h100) == "EL-EXT-ARCH-PTX-ONLY"
    # a list without PTX on an RTX 5090 (12.0), torch's own cu128 build fine: no kernel image
    blackwell = _on("NVIDIA GeForce RTX 5090", "12.0").replace(
        "5.0+PTX 6.0 6.1 7.0 7.5 8.0 8.6", "8.0 8.6"
    )
    assert _top(blackwell.replace("2.0.1+cu117", "2.7.0+cu128")) == "EL-EXT-ARCH-UNSUPPORTED"
    # 'None' (the builder's default list) says nothing of its GPU code
    unknown = XFORMERS_A100.replace("5.0+PTX 6.0 6.1 7.0 7.5 8.0 8.6", "None")
    assert [e.sass for e in _facts(unknown).extensions.items] == [[]]


# ------------------------------------------------------------------- launch logs
def test_sdnext_log_cpu_torch() -> None:
    # sdnext-1424: 'Torch 2.0.1+cpu' after 'nVidia CUDA toolkit detected'
    facts = _facts(_report("sdnext-1424.txt"))
    assert facts.torch.version == "2.0.1+cpu"
    assert any("nvidia-smi" in n for n in facts.meta.notes)
    assert _top(_report("sdnext-1424.txt")) == "EL-TORCH-CPU-ONLY"


def test_kohya_log_with_its_gpu_lines_is_quiet() -> None:
    # kohya_ss's and SD.Next's check_torch lines, as their code prints them
    text = (
        "10:01:10-118204 INFO     Torch 2.1.2+cu118\n"
        "10:01:10-131204 INFO     Torch backend: nVidia CUDA 11.8 cuDNN 8905\n"
        "10:01:10-136203 INFO     Torch detected GPU: NVIDIA GeForce RTX 3090 VRAM 24576 Arch "
        "(8, 6) Cores 82\n"
    )
    facts = _facts(text)
    assert [(g.name, g.compute_capability) for g in (facts.driver.gpus or [])] == [
        ("NVIDIA GeForce RTX 3090", "8.6")
    ]
    assert facts.torch.live is not None and facts.torch.live.cuda_available is True
    assert _errors(text) == []
    # DirectML's line names no capability: no NVIDIA GPU is read from it
    dml = "INFO     Torch 2.0.0+cpu\nINFO     Torch detected GPU: AMD Radeon RX 6800\n"
    assert (_facts(dml).driver.gpus or []) == []


def test_unsloth_banner_reads_the_gpu_and_its_capability() -> None:
    # unsloth-1998: 'NVIDIA GeForce GTX 1070. Num GPUs = 1.', 'CUDA: 6.1. CUDA Toolkit: 12.4'
    facts = _facts(_report("unsloth-1998.txt"))
    assert facts.torch.version == "2.5.1+cu124"
    assert [(g.name, g.compute_capability) for g in (facts.driver.gpus or [])] == [
        ("NVIDIA GeForce GTX 1070", "6.1")
    ]
    assert _errors(_report("unsloth-1998.txt")) == []
    # the same banner on a CUDA 13 build, which has no Pascal kernels
    cu130 = _report("unsloth-1998.txt").replace("2.5.1+cu124", "2.9.1+cu130")
    assert _top(cu130.replace("Toolkit: 12.4", "Toolkit: 13.0")) == "EL-ARCH-UNSUPPORTED"


def test_a_collect_env_report_keeps_its_own_lines() -> None:
    # xFormers' warning above a collect_env report: collect_env's torch and GPUs win
    report = (CE / "xformers-1240.txt").read_text()
    warning = (
        "WARNING[XFORMERS]: xFormers can't load C++/CUDA extensions. xFormers was built for:\n"
        "    PyTorch 2.2.0+cu121 with CUDA 1201 (you have 2.2.0+cpu)\n"
    )
    alone = _facts(report)
    both = _facts(warning + report)
    assert both.torch.version == alone.torch.version
    assert both.driver.gpus == alone.driver.gpus


# ComfyUI's start-up lines, as a public repository's notes record them (Windows, an RTX 3060)
COMFYUI = """\
Checkpoint files will always be loaded safely.
Total VRAM 12287 MB, total RAM 49075 MB
pytorch version: 2.8.0+cu128
Set vram state to: HIGH_VRAM
Device: cuda:0 NVIDIA GeForce RTX 3060 : cudaMallocAsync
Using pytorch attention
Python version: 3.11.9 (tags/v3.11.9:de54cf5, Apr  2 2024, 10:12:12) [MSC v.1938 64 bit (AMD64)]
ComfyUI version: 0.3.60
"""


def test_comfyui_start_up_reads_the_device_torch_opened() -> None:
    facts = _facts(COMFYUI)
    assert facts.torch.version == "2.8.0+cu128"
    assert [g.name for g in (facts.driver.gpus or [])] == ["NVIDIA GeForce RTX 3060"]
    assert facts.torch.live is not None and facts.torch.live.cuda_available is True
    assert _errors(COMFYUI) == []
    # ComfyUI on a CPU build: 'Device: cpu' names no GPU, so no GPU is read
    cpu = COMFYUI.replace("2.8.0+cu128", "2.8.0+cpu").replace(
        "cuda:0 NVIDIA GeForce RTX 3060 : cudaMallocAsync", "cpu"
    )
    assert (_facts(cpu).driver.gpus or []) == []
    # a cu130 build on a GTX 1080 (Pascal, which CUDA 13 builds carry no kernels for)
    pascal = COMFYUI.replace("2.8.0+cu128", "2.9.1+cu130").replace("RTX 3060", "GTX 1080")
    assert _top(pascal) == "EL-ARCH-UNSUPPORTED"
