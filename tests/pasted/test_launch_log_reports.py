"""Launch logs and a UI's environment pasted into issue threads (issue 21): ComfyUI's System
Information and /system_stats (envlock/pasted/launchlog.py), and session 9's tuning reports in
other tools' layouts (a webui Sysinfo cut short, ComfyUI's stamped log, SD.Next's loader line,
kohya_ss's 'Could not load torch'), each read as the collect_env facts it holds and judged by
the existing checks; beside each, a lookalike the reader must not take."""

from __future__ import annotations

import json

from envlock.pasted.launchlog import read_launch_log
from envlock.pasted.trainerenv import read_ultralytics
from tests.conftest import FIXTURES
from tests.pasted.test_framework_reports import _available, _errors, _facts, _gpus, _top

CE = FIXTURES / "collect_env"


# ------------------------------------------------------------ ComfyUI's System Information
# https://github.com/Comfy-Org/ComfyUI/issues/5278 (the frontend's error report)
COMFY_SYSTEM = """## System Information
- **ComfyUI Version:** v0.2.3-18-g518c0dc
- **Arguments:** ComfyUI\\main.py --windows-standalone-build
- **OS:** nt
- **Python Version:** 3.11.9 (tags/v3.11.9:de54cf5, Apr  2 2024, 10:12:12) [MSC v.1938 64 bit (AMD64)]
- **Embedded Python:** true
- **PyTorch Version:** 2.4.1+cu124
## Devices

- **Name:** cuda:0 NVIDIA GeForce RTX 2060 : cudaMallocAsync
  - **Type:** cuda
  - **VRAM Total:** 12884443136
  - **VRAM Free:** 10727621930
  - **Torch VRAM Total:** 1174405120
  - **Torch VRAM Free:** 192578858
"""


def test_comfyui_system_information_reads_the_cuda_device() -> None:
    reading = read_launch_log(COMFY_SYSTEM)
    assert reading is not None and reading.gpus == {0: "NVIDIA GeForce RTX 2060"}
    facts = _facts(COMFY_SYSTEM)
    assert facts.torch.version == "2.4.1+cu124"
    assert _available(facts) is True
    assert _gpus(facts) == ["NVIDIA GeForce RTX 2060"]
    assert _errors(COMFY_SYSTEM) == []


def test_comfyui_cpu_device_names_no_gpu() -> None:
    text = COMFY_SYSTEM.replace("cuda:0 NVIDIA GeForce RTX 2060 : cudaMallocAsync", "cpu")
    reading = read_launch_log(text.replace("  - **Type:** cuda", "  - **Type:** cpu"))
    assert reading is not None and reading.gpus == {} and "Is CUDA available" not in reading.fields


# ------------------------------------------------------------ session 9's tuning reports


def test_webui_sysinfo_cut_short_reads_its_pairs_and_no_cuda() -> None:
    # sd-webui-15137: the excerpt ends inside 'Torch env info' (no closing brace): the pairs
    # before the cut are read; null runtime, driver and GPUs with CUDA unavailable are
    # pretty_str's 'No CUDA', as collect_env prints them: a CUDA build with no driver
    text = (CE / "sd-webui-15137.txt").read_text()
    facts = _facts(text)
    assert facts.torch.version == "2.2.0+cu121"
    assert _available(facts) is False
    assert _top(text) == "EL-NO-DRIVER"


def test_comfyui_log_behind_its_time_stamps_reads_torch_and_the_device() -> None:
    # ComfyUI-5511: '[2024-11-06 23:40:40.835] pytorch version: 2.3.1+cu121' (its own log)
    text = (CE / "ComfyUI-5511.txt").read_text()
    facts = _facts(text)
    assert facts.torch.version == "2.3.1+cu121"
    assert _gpus(facts) == ["NVIDIA GeForce RTX 3090"]
    assert _errors(text) == []
    # python logging's and the frontend's stamps too; another program's stamped line is not
    logged = read_launch_log(
        "2024-10-19 01:10:47,703 - root - INFO - pytorch version: 2.4.1+cu124\n"
        "2025-10-21T21:59:20.643944 - Device: cuda:0 NVIDIA GeForce RTX 2060 : cudaMallocAsync\n"
    )
    assert logged is not None and logged.gpus == {0: "NVIDIA GeForce RTX 2060"}
    assert read_launch_log("[2024-11-06 23:40:40.835] torch version: 2.3.1+cu121\n") is None


def test_sdnext_system_packages_line_names_a_cpu_build() -> None:
    # sdnext-3476: modules/loader.py's "System packages: {'torch': '2.4.1+cpu', ...}"
    text = (CE / "sdnext-3476.txt").read_text()
    assert _facts(text).torch.version == "2.4.1+cpu"
    assert _top(text) == "EL-TORCH-CPU-ONLY"


def test_kohya_could_not_load_torch_is_torch_missing_only_for_an_import_failure() -> None:
    # sd-scripts-1597: torch's DLL loader failed at import ('[WinError 126] ... Error loading
    # "...torch\lib\fbgemm.dll"'): collect_env would print 'PyTorch version: N/A'
    text = (CE / "sd-scripts-1597.txt").read_text()
    assert _top(text) == "EL-TORCH-MISSING"
    # a failure after the import inside check_torch's try is not torch missing
    later = "02:54:18-197331 ERROR    Could not load torch: CUDA error: unknown error\n"
    assert read_launch_log(later) is None


def test_launch_lines_read_through_a_pastes_tabs_bullets_and_joined_wraps() -> None:
    # a tab after the first ': ' of each line (ComfyUI's allocator colon is that one), bullets
    # before a stamped ComfyUI line, and an Ultralytics line whose wrap was joined without
    # its space: each still reads as its line does (test_layouts' tab-after-key, bullet-dash)
    comfy = read_launch_log(
        "- [2024-11-06 23:40:40.835] pytorch version:\t2.3.1+cu121\n"
        "- **Name:** cuda:0 NVIDIA GeForce RTX 4060 Ti :\tcudaMallocAsync\n"
    )
    assert comfy is not None and comfy.gpus == {0: "NVIDIA GeForce RTX 4060 Ti"}
    kohya = read_launch_log(
        "17:21:03-285792 INFO     Torch 2.1.2+cu118\n"
        "17:21:03-285792 INFO     Torch backend:\tnVidia CUDA 11.8 cuDNN 8905\n"
        "17:21:03-295805 INFO     Torch detected GPU:\tNVIDIA GeForce RTX 4060 Laptop GPU VRAM 8188 "
        "Arch (8, 9) Cores 24\n"
    )
    assert kohya is not None and kohya.fields["CUDA used to build PyTorch"] == "11.8"
    assert kohya.capabilities == {0: "8.9"}
    yolo = read_ultralytics(
        "Ultralytics 8.3.59 Python-3.10.12 torch-2.3.0a0+40ec155e58.nv24.03 "
        "CUDA:0(NVIDIA RTX A6000,48670MiB)\n"
    )
    assert yolo is not None and yolo.gpus == {0: "NVIDIA RTX A6000"}


def _system_stats(pytorch: str, device: str, device_type: str) -> str:
    """ComfyUI's /system_stats as server.py builds it, pretty-printed as a browser shows it."""
    return json.dumps(
        {
            "system": {
                "os": "nt",
                "ram_total": 68619177984,
                "ram_free": 45080387584,
                "comfyui_version": "0.3.26",
                "python_version": "3.12.9 (tags/v3.12.9:fdb8142, Feb  4 2025, 15:27:58) [MSC v.1942 64 bit (AMD64)]",
                "pytorch_version": pytorch,
                "embedded_python": True,
                "argv": ["ComfyUI\\main.py", "--windows-standalone-build"],
            },
            "devices": [
                {
                    "name": device,
                    "type": device_type,
                    "index": 0 if device_type == "cuda" else None,
                    "vram_total": 25262096384,
                    "vram_free": 24037425152,
                    "torch_vram_total": 67108864,
                    "torch_vram_free": 50069504,
                }
            ],
        },
        indent=2,
    )


def test_comfyui_system_stats_json_reads_torch_and_the_cuda_device() -> None:
    text = _system_stats("2.6.0+cu126", "cuda:0 NVIDIA GeForce RTX 4090 : cudaMallocAsync", "cuda")
    facts = _facts(text)
    assert facts.torch.version == "2.6.0+cu126"
    assert _gpus(facts) == ["NVIDIA GeForce RTX 4090"]
    assert _available(facts) is True
    assert _errors(text) == []
    # an RTX 5090 (sm_120) under a cu126 build, which holds no sm_120 kernels
    blackwell = text.replace("RTX 4090", "RTX 5090")
    assert "EL-ARCH-UNSUPPORTED" in _errors(blackwell)
    # the CPU device names none; a 'pytorch_version' in another program's JSON is not ComfyUI's
    cpu = read_launch_log(_system_stats("2.6.0+cpu", "cpu", "cpu"))
    assert cpu is not None and cpu.gpus == {} and "Is CUDA available" not in cpu.fields
    assert read_launch_log('{"pytorch_version": "2.6.0+cu126", "cuda_available": true}') is None
