"""Launch logs that print torch's build: SD.Next's and kohya_ss's installers, ComfyUI's start-up,
Unsloth's banner.

SD.Next (vladmandic/automatic) and kohya_ss log, at start-up (their installer's check_torch):

    22:47:26-482579 INFO     nVidia CUDA toolkit detected          (nvidia-smi was found)
    22:47:27-752280 INFO     Torch 2.0.1+cpu                       (torch.__version__)
    ...             INFO     Torch backend: nVidia CUDA 11.8 cuDNN 8700   (CUDA available)
    ...             INFO     Torch detected GPU: NVIDIA GeForce RTX 3090 VRAM 24576 Arch (8, 6)
                             Cores 82

and "Torch is not able to use GPU" where torch.cuda.is_available() is False. ComfyUI prints
"pytorch version: 2.8.0+cu128" and "Device: cuda:0 NVIDIA GeForce RTX 3060 : cudaMallocAsync"
(a CUDA device torch opened; "Device: cpu" names none). Unsloth's
banner names the first GPU, its compute capability (as "CUDA: 6.1") and torch's CUDA:

    \\\\   /|    NVIDIA GeForce GTX 1070. Num GPUs = 1. Max memory: 7.909 GB. Platform: Linux.
    O^O/ \\_/ \\    Torch: 2.5.1+cu124. CUDA: 6.1. CUDA Toolkit: 12.4. Triton: 3.1.0

(older releases: "GPU: NVIDIA A100. Max memory: 39.5 GB. Platform = Linux." and "Pytorch:
2.1.0+cu121. CUDA = 8.0. CUDA Toolkit = 12.1."). Unsloth prints it only once it has read the
GPU's properties through torch, so CUDA is available there. A log without torch's version
is not read.
"""

from __future__ import annotations

import re

from envlock.pasted.hfenv import gpu_name
from envlock.pasted.toolreading import TORCH_VERSION, ToolReading

# the line's last words: "Torch 2.0.1+cpu" alone, or after a log level
_TORCH_LINE = re.compile(rf"(?:^|\bINFO[ \t]+|\][ \t]+)Torch ({TORCH_VERSION})[ \t]*$")
# SD.Next's loader (modules/loader.py): "System packages: {'torch': '2.4.1+cpu', 'diffusers': ...}"
_SYSTEM_PACKAGES = re.compile(rf"\bSystem packages:[ \t]+\{{'torch': '({TORCH_VERSION})'")
# kohya_ss's and SD.Next's check_torch when `import torch` failed: torch's own DLL loader error
# (torch/__init__.py: '[WinError 126] ... Error loading "...\\torch\\lib\\x.dll" or one of its
# dependencies.') or no torch at all; collect_env, which catches the same ImportError/OSError,
# prints 'PyTorch version: N/A' there. Another failure in check_torch's try (a CUDA call after
# the import) prints the same prefix and is not read.
_NOT_LOADED = re.compile(
    r"Could not load torch:[ \t]+(?:\[WinError \d{1,4}\] .{0,300}?\bError loading\b|No module named 'torch'$)"
)
# (a tab may stand after any of these colons: a paste's tab-separated keys)
_BACKEND = re.compile(r"Torch backend:[ \t]+nVidia CUDA (\d+\.\d+) ")
_DETECTED = re.compile(r"Torch detected GPU:[ \t]+")
_ALLOCATOR = re.compile(r"[ \t]:[ \t]+[\w.-]{1,40}[ \t]*$")  # ComfyUI's " : cudaMallocAsync"
_ARCH = re.compile(r" VRAM \d+(?:MB)? Arch \(?(\d{1,2})(?:, |\.)(\d)\)?")
_BANNER_TORCH = re.compile(
    rf"(?:Torch|Pytorch):[ \t]*({TORCH_VERSION})\.[ \t]+CUDA[ \t]*[:=][ \t]*(\d{{1,2}}\.\d)\."
    r"[ \t]+CUDA Toolkit[ \t]*[:=][ \t]*(\d+\.\d+|None)"
)
_BANNER_GPU = (". Num GPUs = ", ". Max memory")
# ComfyUI's start-up: "pytorch version: 2.8.0+cu128", "Device: cuda:0 NVIDIA GeForce RTX 3060 :
# cudaMallocAsync" (its model_management: torch's device, its name, the allocator)
# and its System Information (the frontend's error report, from /system_stats): "- **PyTorch
# Version:** 2.4.1+cu124", "- **Name:** cuda:0 NVIDIA GeForce RTX 2060 : cudaMallocAsync"
_COMFY_TORCH = re.compile(
    rf"^(?:\[INFO\][ \t]+)?(?:pytorch version:|\*\*PyTorch Version:\*\*)[ \t]+({TORCH_VERSION})[ \t]*$"
)
_COMFY_DEVICE = re.compile(r"^(?:\[INFO\][ \t]+)?(?:Device:|\*\*Name:\*\*)[ \t]+cuda:(\d{1,2}) ")
# what stands before ComfyUI's lines: a block's indentation, list bullets (its System
# Information's own '- ', or a paste's), and a log line's time stamp: its own log ("[2024-11-06
# 23:40:40.835] "), the frontend's log view ("2025-10-21T21:59:20.643944 - "), python logging's
# default format ("2024-10-19 01:10:47,703 - root - INFO - ")
_COMFY_LEAD = re.compile(
    r"^[ \t]*(?:[-*>][ \t]+){0,3}"
    r"(?:\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d{1,6})?\] "
    r"|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})? - "
    r"|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} - \w{1,40} - [A-Z]{4,8} - )?"
)
# ComfyUI's /system_stats JSON (server.py): "system": {..., "comfyui_version": ..., "pytorch_version":
# "2.4.1+cu124", "embedded_python": ...}, "devices": [{"name": "cuda:0 NVIDIA ... : cudaMallocAsync",
# "type": "cuda", ...}]; read only beside one of the two keys only ComfyUI's holds
_STATS_TORCH = re.compile(rf'"pytorch_version":[ \t]*"({TORCH_VERSION})"')
_STATS_DEVICE = re.compile(r'"name":[ \t]*"cuda:(\d{1,2}) ([^"\\]{1,100}?) : [\w.-]{1,40}"')
_STATS_KEYS = ('"comfyui_version"', '"embedded_python"')
_COMFY_STARTS = ("pytorch version:", "Device:", "[INFO]", "**PyTorch Version:**", "**Name:**")
# SD.Next's and kohya_ss's log lines are right-padded to the terminal's width; a paste that lost
# the line break keeps the next line glued after the padding (kohya_ss#1096: "...INFO     Torch
# 2.0.1+cu118     17:22:50-122539 ERROR    Could not load torch: ..."): split back at the next
# line's time stamp and level (fixed-length head: linear)
_GLUED = re.compile(
    r"(?<=[ \t])(\d\d:\d\d:\d\d-\d{6}[ \t]{1,8}(?:DEBUG|INFO|WARNING|ERROR|CRITICAL)\b)"
)


def read_launch_log(text: str) -> ToolReading | None:
    """torch, its CUDA and the GPUs such a log names; None without torch's version."""
    out = ToolReading()
    for line in _GLUED.sub("\n\\1", text).split("\n"):
        if "Torch" in line or "torch" in line:
            _installer(line.rstrip(), out)
            _banner_torch(line, out)
        comfy = _COMFY_LEAD.sub("", line, count=1)
        if comfy.startswith(_COMFY_STARTS):
            _comfyui(comfy.rstrip(), out)
        if "Max memory" in line:
            _banner_gpu(line, out)
    if '"pytorch_version"' in text and any(key in text for key in _STATS_KEYS):
        _system_stats(text, out)
    if "nVidia CUDA toolkit detected" in text:
        out.notes.append("SD.Next found nvidia-smi ('nVidia CUDA toolkit detected'): a driver")
    if "PyTorch version" not in out.fields:
        return None
    out.notes.append(
        "a launch log naming torch's build (SD.Next, kohya_ss, ComfyUI, Unsloth): read"
    )
    return out


def _installer(line: str, out: ToolReading) -> None:
    """SD.Next's and kohya_ss's check_torch lines."""
    m = _TORCH_LINE.search(line) or _SYSTEM_PACKAGES.search(line)
    if m:
        out.put("PyTorch version", m.group(1))
        return
    m = _BACKEND.search(line)
    if m:
        out.put("CUDA used to build PyTorch", m.group(1))
        out.put("Is CUDA available", "True")
        return
    if _NOT_LOADED.search(line):
        out.put("PyTorch version", "N/A")
        return
    if "Torch is not able to use GPU" in line:
        out.put("Is CUDA available", "False")
        return
    detected = _DETECTED.search(line) if "Torch detected GPU:" in line else None
    if detected is None:
        return
    rest = line[detected.end() :]
    vram = rest.rfind(" VRAM ")
    arch = _ARCH.match(rest, vram) if vram > 0 else None
    name = gpu_name(rest[:vram]) if arch else None
    if arch and name:  # an NVIDIA GPU with its capability (not DirectML's or an XPU)
        index = len(out.gpus)
        out.gpus[index] = name
        out.capabilities[index] = f"{arch.group(1)}.{arch.group(2)}"


def _comfyui(line: str, out: ToolReading) -> None:
    """ComfyUI's torch line, and its device line: a CUDA device torch opened, by name."""
    m = _COMFY_TORCH.match(line)
    if m:
        out.put("PyTorch version", m.group(1))
        return
    m = _COMFY_DEVICE.match(line)
    allocator = _ALLOCATOR.search(line, m.end()) if m else None
    name = gpu_name(line[m.end() : allocator.start()]) if m and allocator else None
    if m and name:
        out.gpus.setdefault(int(m.group(1)), name)
        out.put("Is CUDA available", "True")


def _system_stats(text: str, out: ToolReading) -> None:
    """ComfyUI's /system_stats: torch's version, and each CUDA device by name."""
    m = _STATS_TORCH.search(text)
    if m:
        out.put("PyTorch version", m.group(1))
    for device in _STATS_DEVICE.finditer(text):
        name = gpu_name(device.group(2))
        if name:
            out.gpus.setdefault(int(device.group(1)), name)
            out.put("Is CUDA available", "True")


def _banner_torch(line: str, out: ToolReading) -> None:
    m = _BANNER_TORCH.search(line)
    if not m:
        return
    out.put("PyTorch version", m.group(1))
    if m.group(3) != "None":
        out.put("CUDA used to build PyTorch", m.group(3))
        out.put("Is CUDA available", "True")
        out.capabilities.setdefault(0, m.group(2))


def _banner_gpu(line: str, out: ToolReading) -> None:
    """Unsloth's GPU line: the first GPU's name before ". Num GPUs" or ". Max memory"."""
    ends = [at for at in (line.find(mark) for mark in _BANNER_GPU) if at > 0]
    if not ends:
        return
    head = line[: min(ends)].rstrip()
    art = head.rfind("/|")  # the sloth's ear, where the banner's text column starts
    name = head[art + 2 :] if art >= 0 else head.rsplit("  ", 1)[-1]
    name = name.strip()
    name = re.sub(r"^GPU:[ \t]+", "", name)
    name = gpu_name(name) or ""
    if name:
        out.gpus.setdefault(0, name)
