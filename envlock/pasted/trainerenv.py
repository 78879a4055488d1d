"""Training frameworks' environment printouts as pasted into issue threads: Ultralytics'
device line and PyTorch Lightning's collect_env_details (issue 21).

Ultralytics (ultralytics/utils/torch_utils.select_device, printed by every train/predict run
and by `yolo checks`; YOLOv5's the same since 2021):

    Ultralytics 8.3.95 🚀 Python-3.10.12 torch-2.6.0+cu124 CUDA:0 (NVIDIA GeForce RTX 5090, 32120MiB)
    YOLOv5 🚀 v7.0-72-g064365d Python-3.10.9 torch-1.13.1+cu116 CUDA:0 (Tesla T4, 15110MiB)
                                                               CUDA:1 (Tesla T4, 15110MiB)

YOLOv5 before that format (2021-01 to 2022-05: select_device's f'YOLOv5 🚀 {git_describe() or
date_modified()} torch {torch.__version__} ', the emoji from 2021-03, then 'CPU' or one
'CUDA:n (name, 15079MB)' per device; late 2020: f'Using torch {torch.__version__} ') names no
Python. Ultralytics' emojis() drops the emoji on Windows, leaving two spaces (yolov5#7639);
a Windows console may show its UTF-8 bytes as 'ðŸš€':

    YOLOv5 v4.0-14-gb75c432 torch 1.7.1 CPU
    YOLOv5  2022-4-22 torch 1.11.0+cpu CPU
    Using torch 1.7.0 CUDA:0 (Tesla V100-SXM2-16GB, 16130MB)

A paste holding several of these lines from environments that differ (ultralytics#1495: an
older run's 'torch-1.8.1+cu111 CUDA:0 (...)' above today's 'torch-2.0.0+cpu CPU') states the
environment as it is now in its last line: torch and Python are the last line's, and devices
are read only from the lines of that same torch and Python.

`torch-` (`torch `) is torch.__version__; `CUDA:n (name, MiB)` is printed only where
torch.cuda.is_available(), one line per device; `CPU (...)`/`MPS (...)` say nothing of CUDA
(the user may have asked for the CPU). The emoji is often lost in a paste.

Lightning (requirements/collect_env_details.py, the bug template's "Current environment"):

    * CUDA:
        - GPU:
                - NVIDIA GeForce RTX 4090
        - available:         True
        - version:           11.8            (torch.version.cuda)
    * Lightning:
        - torch:             2.6.0+cu118     (distribution metadata: the wheel's version)

(before 1.8, 2022: "- pyTorch_version: 1.10.0+cu113" under "* Packages:"; in 2020 the same
without the "* " and "- " marks). Read only inside its CUDA section with torch's version.

Where a paste holds no such section, the Trainer's own device banner (trainer/setup.py's
_log_device_info, every fit since 1.x) says whether torch sees CUDA:

    GPU available: True (cuda), used: True        (since 1.7: CUDA, else MPS, else none)
    GPU available: True, used: True               (before: torch.cuda.is_available())
    GPU available: False, used: False

"True (mps)" and "True (xpu)" are another accelerator: nothing of CUDA is read from them, and
banners that disagree (two runs) read nothing.
"""

from __future__ import annotations

import re

from envlock.pasted.hfenv import gpu_name
from envlock.pasted.toolreading import TORCH_VERSION, ToolReading

_YOLO = re.compile(
    rf"(?:\bUltralytics\b|\bYOLOv\d).{{0,60}}?\bPython-(\d+\.\d+\.\d+) torch-({TORCH_VERSION})"
    r"(?: ?(CUDA:\d{1,2} ?\(.*))?"
)
# YOLOv5's 2021-2022 line: the emoji, none, or its bytes shown as cp1252 text; then
# git_describe() (a tag's 'v4.0-14-gb75c432', or a bare hash) or the file's date ('2022-4-22')
_YOLO_OLD = re.compile(
    r"\bYOLOv5 (?:[^\sA-Za-z0-9]{1,4} | )?"
    r"(?:v\d+\.\d+[\w.-]{0,40}|[0-9a-f]{7,40}|\d{4}-\d{1,2}-\d{1,2}) "
    rf"torch ({TORCH_VERSION}) (?:CPU\b|(CUDA:\d{{1,2}} ?\(.*))"
)
# where Ultralytics' lines start: the device line (today's, YOLOv5's, late 2020's) and checks()'
# next line, "Setup complete ✅ (96 CPUs, ...)": the layout step never joins one to the line
# before it as a wrap's rest (pasted/line_starts.py)
LINE_STARTS = ("Ultralytics ", "YOLOv5 ", "Using torch ", "Setup complete ")
_USING = re.compile(rf"^[ \t]*+Using torch ({TORCH_VERSION}) (?:CPU[ \t]*$|(CUDA:\d{{1,2}} ?\(.*))")
# (the space before '(' or after ',' may be lost where a wrapped line was joined back; the
# old banner's memory is in 'MB')
_DEVICE = re.compile(r"CUDA:(\d{1,2}) ?\((.{1,80}), ?\d{1,7}(?:\.\d{1,6})?Mi?B\)[ \t]*$")
# a line's start: its indentation or bullet, kept through a paste that collapsed the blanks
# (a rendered page, an e-mail quote's removal) or bulleted or indented the list again
_LEAD = r"(?:[ \t]++(?:[-*][ \t]++)*+|(?:[ \t]*+[-*][ \t]++)++)"
_SECTION = re.compile(
    r"^[ \t]*+(?:[-*][ \t]++)*+(CUDA|Lightning|Packages|System|cuda|packages|system):[ \t]*$"
)
_ITEM = re.compile(rf"^{_LEAD}([A-Za-z_][\w.-]{{0,40}}):(?:[ \t]+(\S.*?))?[ \t]*$")
_LIST_ITEM = re.compile(rf"^{_LEAD}([^:]{{1,80}}?)[ \t]*$")
# where torch's version is: the Lightning section's package (since 1.8), Packages' before
# a field or section the layout step joined to the line before ("- RTX 4090 - available: True")
_JOINED = re.compile(
    r"(?<=\S)[ \t]+(?=- (?:available|version):|\* (?:CUDA|Lightning|Packages|System):)"
)
_TORCH_KEYS = ("lightning.torch", "packages.pyTorch_version", "packages.torch")


def read_ultralytics(text: str) -> ToolReading | None:
    """torch, Python and the CUDA devices from Ultralytics' device line (the last one where
    the paste holds several); None without it."""
    lines = text.split("\n")
    found = [(at, b) for at, line in enumerate(lines) if (b := _banner(line))]
    if not found:
        return None
    torch, python, _ = found[-1][1]
    out = ToolReading()
    out.put("PyTorch version", torch)
    out.put("Python version", python)
    for at, (other_torch, other_python, devices) in found:
        if devices and (other_torch, other_python) == (torch, python):
            _devices(devices, lines[at + 1 :], out)
    out.notes.append(
        "Ultralytics' device line ('Python-3.x torch-2.x CUDA:0 (...)', YOLOv5's older 'torch 1.x CPU'): read"
    )
    if any(b[:2] != (torch, python) for _, b in found):
        out.notes.append(
            f"Ultralytics' device lines name {len({b[:2] for _, b in found})} environments: "
            f"the last one (torch {torch}) is read as the current one"
        )
    return out


def _banner(line: str) -> tuple[str, str | None, str | None] | None:
    """(torch, Python, the first device) of one device line; None for any other line."""
    if "torch" not in line:
        return None
    m = _YOLO.search(line) if "torch-" in line else None
    if m:
        return m.group(2), m.group(1), m.group(3)
    old = _YOLO_OLD.search(line) if "YOLOv5 " in line else None
    old = old or (_USING.match(line) if "Using torch " in line else None)
    return (old.group(1), None, old.group(2)) if old else None


def _devices(first: str, rest: list[str], out: ToolReading) -> None:
    """The first device, and the next lines' devices (select_device's one line per GPU)."""
    for text in [first, *(line.strip() for line in rest)]:
        m = _DEVICE.match(text)
        name = gpu_name(m.group(2)) if m else None
        if m is None:
            return
        if name:
            out.gpus.setdefault(int(m.group(1)), name)
            out.put("Is CUDA available", "True")


def read_lightning(text: str) -> ToolReading | None:
    """torch, its CUDA, availability and GPUs from Lightning's collect_env_details; None
    without its CUDA section's availability and torch's version."""
    if "available:" not in text:
        return None
    section, listing = "", ""
    fields: dict[str, str] = {}
    gpus: list[str] = []
    for line in _JOINED.sub("\n\t", text).split("\n"):
        head = _SECTION.match(line)
        if head:
            section, listing = head.group(1).lower(), ""
            continue
        item = _ITEM.match(line)
        if item:
            listing = item.group(1) if item.group(2) is None else ""
            fields.setdefault(f"{section}.{item.group(1)}", item.group(2) or "")
            continue
        entry = _LIST_ITEM.match(line)
        if section == "cuda" and listing == "GPU" and entry:
            gpus.append(entry.group(1))
        elif not line.strip():
            listing = ""
    return _lightning(fields, gpus) or _device_banner(text)


_BANNER = "GPU available:"
_BANNER_SAID = re.compile(
    r"[ \t]{1,4}(True|False)( \((?:cuda|mps|xpu)\))?, used:[ \t]{1,4}(?:True|False)"
)


def _device_banner(text: str) -> ToolReading | None:
    """'Is CUDA available' from the Trainer's device banners, where they agree."""
    said: set[str] = set()
    at = text.find(_BANNER)
    while at >= 0 and len(said) < 3:
        m = _BANNER_SAID.match(text, at + len(_BANNER))
        if m and m.group(2) in (None, " (cuda)"):
            said.add(m.group(1))
        elif m:
            said.add("other")  # an MPS/XPU machine's: CUDA not its accelerator
        at = text.find(_BANNER, at + len(_BANNER))
    if len(said) != 1 or "other" in said:
        return None
    out = ToolReading()
    out.put("Is CUDA available", said.pop())
    out.notes.append("PyTorch Lightning's device banner ('GPU available: ..., used: ...'): read")
    return out


def _lightning(fields: dict[str, str], gpus: list[str]) -> ToolReading | None:
    available = fields.get("cuda.available")
    torch = next((fields[k] for k in _TORCH_KEYS if k in fields), "")
    if available not in ("True", "False") or not re.fullmatch(TORCH_VERSION, torch):
        return None
    out = ToolReading()
    out.put("PyTorch version", torch)
    out.put("Is CUDA available", available)
    cuda = fields.get("cuda.version", "")
    if re.fullmatch(r"\d{1,2}\.\d{1,2}", cuda):
        out.put("CUDA used to build PyTorch", cuda)
    python = fields.get("system.python", "")
    if re.fullmatch(r"\d+\.\d+\.\d+", python):
        out.put("Python version", python)
    for index, name in enumerate(gpus):
        known = gpu_name(name)
        if known:
            out.gpus[index] = known
    out.notes.append("PyTorch Lightning's collect_env_details ('* CUDA:', '- available:'): read")
    return out
