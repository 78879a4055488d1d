"""AUTOMATIC1111's stable-diffusion-webui (and Forge, its fork) as pasted into issue threads:
the UI's footer, the launcher's version check, the Sysinfo dump and the model-management
banner Forge shares with ComfyUI and Fooocus (issue 21).

The footer (modules/ui.py versions_html, kept by Forge) is one line in the browser and one
field a line when copied from the page's HTML:

    version: v1.10.1  •  python: 3.10.11  •  torch: 2.1.2+cu121  •  xformers: 0.0.23.post1
    •  gradio: 3.41.2  •  checkpoint: 6ce0161689

`torch` is torch.__long_version__ or torch.__version__, `xformers` "N/A" when not loaded. It is
read only with `torch:` beside the footer's own `gradio:` or `xformers:` field: a lone
"torch: 2.1" is any tool's (or a requirements list's). The launcher's version check
(modules/errors.check_versions) prints two lines, both needed:

    You are running torch 2.1.0+cu118.
    The program is tested to work with torch 2.1.2.

Sysinfo (modules/sysinfo.py, the bug template's "Sysinfo" field) is JSON; its "Torch env info"
is torch.utils.collect_env.get_env_info()._asdict() (values with line ends split into lists, or
the exception's text when collect_env failed), read as the collect_env lines it prints as.
"""

from __future__ import annotations

import contextlib
import json
import re
from typing import Any

from envlock.pasted.hfenv import gpu_name
from envlock.pasted.toolreading import TORCH_VERSION, ToolReading

_VERSION = TORCH_VERSION
# a footer field anywhere in a line: the layout step may have joined the footer's lines
# ("version: v1.5.1-450-gf37cc5f5python: 3.10.9", "xformers: 0.0.21.dev556 gradio: 3.39.0")
_KEYS = "version|python|torch|xformers|gradio|checkpoint"
_FIELD = re.compile(rf"(?<!py)(?<!Py)({_KEYS}):[ \t]*(\S{{1,60}}?)(?=(?:{_KEYS}):|[\s\u2022]|$)")
_RUNNING = re.compile(rf"^[ \t]*You are running torch ({_VERSION})\.[ \t]*$")
_TESTED = re.compile(rf"^[ \t]*The program is tested to work with torch {_VERSION}\.[ \t]*$")
_PYTHON = re.compile(r"\d+\.\d+\.\d+")
# ComfyUI's comfy/model_management.py (Forge's backend/memory_management.py, Fooocus'
# ldm_patched/modules/model_management.py) logs at start-up "Total VRAM {:0.0f} MB, total RAM
# {:0.0f} MB", "pytorch version: {}" (2024 on), "xformers version: {}", "Set vram state to:
# NORMAL_VRAM" and "Device: {}" of get_torch_device_name(): for a CUDA device "cuda:0 <torch's
# device name> : <allocator backend>" ("native", "cudaMallocAsync"; ROCm's devices are "cuda"
# too, with AMD's names), else "cpu", "privateuseone" (DirectML), "xpu:0 <name>"; a line may
# carry its log's time stamp ("[2024-11-06 23:40:40.835] ")
_BANNER_LEAD = re.compile(r"[ \t]{0,8}(?:[-*+][ \t]{1,4})?(?:\[[^\]\n]{1,40}\][ \t]{1,4})?")
_TOTAL = re.compile(r"Total VRAM \d{1,9} MB, total RAM \d{1,9} MB$")
_DEVICE = re.compile(r"Device:[ \t]{1,4}cuda:(\d{1,2}) (.{1,100}?) : [\w.-]{1,40}$")
# get_env_info()'s field -> the collect_env line it prints as (torch/utils/collect_env.py)
# get_env_info() writes pip's freeze lines bare; pretty_str adds the "[pip3] " prefix
_PIP = re.compile(r"(?:\[pip3?\] )?([\w.-]{1,80})==(\S{1,60})$")
_PAIR = re.compile(r'"(\w{1,40})":[ \t]*("(?:[^"\\\n]|\\.){0,400}"|null|true|false)')
_DYNAMIC_CUDA = ("cuda_runtime_version", "nvidia_gpu_models", "nvidia_driver_version")
_ENV_KEYS = {
    "torch_version": "PyTorch version",
    "cuda_compiled_version": "CUDA used to build PyTorch",
    "hip_compiled_version": "ROCM used to build PyTorch",
    "os": "OS",
    "gcc_version": "GCC version",
    "libc_version": "Libc version",
    "python_version": "Python version",
    "python_platform": "Python platform",
    "is_cuda_available": "Is CUDA available",
    "cuda_runtime_version": "CUDA runtime version",
    "nvidia_driver_version": "Nvidia driver version",
    "cudnn_version": "cuDNN version",
}


def read_webui(text: str) -> ToolReading | None:
    """torch (and what else is sure) from a webui footer, version check or Sysinfo, and the
    model-management banner; None without torch's version or the banner's CUDA device."""
    banner = _banner(text) if "Total VRAM" in text else None
    out = ToolReading()
    if '"Torch env info"' in text:
        _sysinfo(text, out)
    if "torch" in text:
        _footer(text, out)
        _version_check(text, out)
    if "PyTorch version" not in out.fields:
        return banner
    out.notes.append(
        "stable-diffusion-webui's footer, version check or Sysinfo (AUTOMATIC1111, Forge): read"
    )
    if banner is not None:
        out.merge(banner)
    return out


def _banner(text: str) -> ToolReading | None:
    """ComfyUI's model-management banner (Forge's and Fooocus' copies): the CUDA device torch
    opened, by name; torch's and xFormers' versions where it prints them. None without its
    'Total VRAM' line and a CUDA device line naming an NVIDIA GPU."""
    out = ToolReading()
    seen = False
    for line in text.split("\n"):
        head = _BANNER_LEAD.match(line)
        rest = line[head.end() :].rstrip() if head else ""
        if rest.startswith("Total VRAM "):
            seen = seen or _TOTAL.match(rest) is not None
        elif rest.startswith("Device:") and (m := _DEVICE.match(rest)):
            name = gpu_name(m.group(2))
            if name is not None:
                out.gpus.setdefault(int(m.group(1)), name)
        elif rest.startswith(("pytorch version:", "xformers version:")):
            _banner_version(rest, out)
    if not seen or not out.gpus:
        return None
    out.put("Is CUDA available", "True")  # torch opened the device and read its memory
    out.notes.append(
        "ComfyUI's model-management banner ('Total VRAM', 'Device: cuda:0 ...', as Forge and "
        "Fooocus print it): a CUDA device torch opened"
    )
    return out


def _banner_version(line: str, out: ToolReading) -> None:
    key, _, value = line.partition(":")
    value = value.strip()
    if re.fullmatch(_VERSION, value):
        if key == "pytorch version":
            out.put("PyTorch version", value)
        else:
            out.packages.setdefault("xformers", value)


def _footer(text: str, out: ToolReading) -> None:
    fields: dict[str, str] = {}
    for line in text.split("\n"):
        for m in _FIELD.finditer(line) if ":" in line else ():
            fields.setdefault(m.group(1), m.group(2))
    torch = fields.get("torch", "")
    if not re.fullmatch(_VERSION, torch) or not ({"gradio", "xformers"} & fields.keys()):
        return
    out.put("PyTorch version", torch)
    python = _PYTHON.fullmatch(fields.get("python", ""))
    if python:
        out.put("Python version", python.group(0))
    xformers = fields.get("xformers", "")
    if re.fullmatch(_VERSION, xformers):
        out.packages.setdefault("xformers", xformers)


def _version_check(text: str, out: ToolReading) -> None:
    lines = text.split("\n")
    for at, line in enumerate(lines[:-1]):
        m = _RUNNING.match(line) if "You are running torch" in line else None
        if m and _TESTED.match(lines[at + 1]):
            out.put("PyTorch version", m.group(1))
            return


def _sysinfo(text: str, out: ToolReading) -> None:
    at = text.find('"Torch env info"')
    brace = text.find("{", at)
    colon = text.find(":", at + len('"Torch env info"'))
    if brace < 0 or colon < 0 or text[colon + 1 : brace].strip():
        return  # a string: collect_env's exception, no fields
    try:
        info, _ = json.JSONDecoder().raw_decode(text, brace)
    except (ValueError, RecursionError):  # cut short, or nested past the parser's depth
        info = _pairs(text[brace:])
    if isinstance(info, dict):
        _env_info(_pretty_nones(info), out)


def _pairs(text: str) -> dict[str, Any]:
    """The '"key": value' pairs of a dump cut short (an issue excerpt ends mid-object), up to
    the object's end; a value that is not one JSON string, null or boolean is left out."""
    end = text.find("\n    }")
    pairs: dict[str, Any] = {}
    for m in _PAIR.finditer(text if end < 0 else text[:end]):
        with contextlib.suppress(ValueError):  # a string with an escape JSON has not
            pairs.setdefault(m.group(1), json.loads(m.group(2)))
    return pairs


def _pretty_nones(info: dict[str, Any]) -> dict[str, Any]:
    """None values as collect_env's pretty_str prints them: where CUDA is unavailable and the
    runtime, GPUs and driver were all not found, those and cuDNN are 'No CUDA' (and an absent
    CUDA build 'None'); any other None is 'Could not collect'."""
    no_cuda = info.get("is_cuda_available") in ("False", False) and all(
        info.get(key, "") is None for key in _DYNAMIC_CUDA
    )
    out = dict(info)
    for key in (*_DYNAMIC_CUDA, "cudnn_version") if no_cuda else ():
        out[key] = "No CUDA"
    if no_cuda and info.get("cuda_compiled_version", "") is None:
        out["cuda_compiled_version"] = "None"
    return {k: "Could not collect" if v is None else v for k, v in out.items()}


def _env_info(info: dict[str, Any], out: ToolReading) -> None:
    for key, name in _ENV_KEYS.items():
        value = _text(info.get(key))
        if value is not None:
            out.put(name, value)
    gpus = info.get("nvidia_gpu_models")
    if gpus == "No CUDA":
        out.put("GPU models and configuration", "No CUDA")
    for line in gpus if isinstance(gpus, list) else [gpus]:
        m = re.match(r"GPU (\d{1,3}): (.{1,80})$", line) if isinstance(line, str) else None
        if m:
            out.gpus.setdefault(int(m.group(1)), m.group(2).strip())
    packages = info.get("pip_packages")
    for line in packages if isinstance(packages, list) else [packages]:
        m = _PIP.match(line) if isinstance(line, str) else None
        if m:
            out.packages.setdefault(m.group(1), m.group(2))


def _text(value: object) -> str | None:
    """A get_env_info value as collect_env prints it (a bool "True"/"False", a list its first
    line, as cuDNN's "Probably one of the following:"); None for None: nothing collected."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (str, int, float)):
        return str(value).strip() or None
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return str(value[0]).strip() or None
    return None
