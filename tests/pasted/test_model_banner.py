"""ComfyUI's model-management banner as Fooocus and Forge print it (envlock/pasted/webui.py,
issue 21): 'Total VRAM ... MB, total RAM ... MB' with 'Device: cuda:0 <name> : <allocator>'
is a CUDA device torch opened: Fooocus-2497 (an RTX 2080, no torch version printed) reads as
that GPU with CUDA available and no error; Fooocus-1984's K80 and Fooocus-1966's RTX 3070 the
same; Forge-343's AMD GPU (ROCm's device is 'cuda' too) and a CPU device name no NVIDIA GPU;
a device line without the banner's VRAM line is not read."""

from __future__ import annotations

from envlock.pasted import facts_from_texts
from envlock.pasted.webui import read_webui
from tests.pasted.test_tool_reports import _errors, _report

# lllyasviel/Fooocus#1984 (Ubuntu, two K80s, Fooocus 2.1.703)
FOOOCUS_K80 = """\
Python 3.10.12 (main, Nov 20 2023, 15:14:05) [GCC 11.4.0]
Fooocus version: 2.1.703
Running on local URL:  http://0.0.0.0:8001
Total VRAM 11441 MB, total RAM 64300 MB
Set vram state to: LOW_VRAM
Device: cuda:0 Tesla K80 : native
VAE dtype: torch.float32
"""
# lllyasviel/Fooocus#1966 (Windows standalone build)
FOOOCUS_3070 = """\
Fooocus version: 2.1.862
Total VRAM 8191 MB, total RAM 16311 MB
Set vram state to: NORMAL_VRAM
Always offload VRAM
Device: cuda:0 NVIDIA GeForce RTX 3070 : native
VAE dtype: torch.bfloat16
Using pytorch cross attention
"""
# lllyasviel/stable-diffusion-webui-forge#343 (ROCm on an AMD laptop GPU)
FORGE_AMD = """\
Launching Web UI with arguments: --listen --enable-insecure-extension-access --theme dark
Total VRAM 8176 MB, total RAM 15834 MB
Set vram state to: NORMAL_VRAM
Device: cuda:0 AMD Radeon RX 6600M : native
VAE dtype: torch.float32
"""
# ComfyUI 0.3.39 on Windows: torch's version printed too
COMFY = """\
Total VRAM 24564 MB, total RAM 32544 MB
pytorch version: 2.7.0+cu126
Set vram state to: NORMAL_VRAM
Device: cuda:0 NVIDIA GeForce RTX 4090 : cudaMallocAsync
Using pytorch attention
"""


def test_fooocus_2497_reads_the_device_and_no_error() -> None:
    text = _report("Fooocus-2497.txt")
    facts = facts_from_texts(collect_env=text)
    assert [g.name for g in (facts.driver.gpus or [])] == ["NVIDIA GeForce RTX 2080"]
    assert facts.torch.version is None
    assert _errors(text) == []


def test_other_fooocus_logs_read_alike() -> None:
    for text, name in ((FOOOCUS_K80, "Tesla K80"), (FOOOCUS_3070, "NVIDIA GeForce RTX 3070")):
        reading = read_webui(text)
        assert reading is not None and reading.gpus == {0: name}
        assert reading.fields == {"Is CUDA available": "True"}
        assert _errors(text) == []


def test_comfyuis_torch_line_is_read_beside_it() -> None:
    reading = read_webui(COMFY)
    assert reading is not None and reading.fields["PyTorch version"] == "2.7.0+cu126"
    assert reading.gpus == {0: "NVIDIA GeForce RTX 4090"}


def test_no_nvidia_device_or_no_banner_is_not_read() -> None:
    assert read_webui(FORGE_AMD) is None
    assert (
        read_webui(FOOOCUS_3070.replace("cuda:0 NVIDIA GeForce RTX 3070 : native", "cpu")) is None
    )
    assert read_webui(FOOOCUS_3070.replace("Total VRAM 8191 MB, total RAM 16311 MB\n", "")) is None
