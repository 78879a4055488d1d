"""Ultralytics' `yolo checks` table (ultralytics/utils/checks.py collect_system_info, 8.1 on),
read as the collect_env facts it states (issue 21).

Below the device line (envlock/pasted/trainerenv.py) `yolo checks` prints one row a fact,
f"{k:<20}{v}" (8.1; width 23 later), then one row a requirement of the ultralytics package,
f"{r.name:<20}{'✅ ' if met else '❌ '}{metadata.version(r.name)}{r.specifier}":

    OS                  Windows-10-10.0.19045-SP0        platform.platform()
    Python              3.11.6
    GPU                 NVIDIA GeForce RTX 4070, 12281MiB  device 0, only where CUDA is available
    CUDA                12.4                              torch.version.cuda where
                                                          torch.cuda.is_available(), else None
    torch               ✅ 2.5.1+cu124>=1.8.0             the installed distribution's version
    torchvision         ✅ 0.20.1>=0.9.0                  (ultralytics#17704)

The emoji may be lost in a paste (Ultralytics drops it on Windows consoles), and the padding
collapsed to one blank. A package row is read where its mark, or the requirement's specifier
glued to the version, says it is one; the table only where two of its own rows (the OS as
platform.platform() prints it, Python's version, the install kind, the environment, the CUDA
row, the GPU row) say it is one. The CUDA row is torch's CUDA: a number says torch is a CUDA
build and CUDA is available; 'None' says only that CUDA is not available.
"""

from __future__ import annotations

import re

from envlock.pasted.hfenv import gpu_name
from envlock.pasted.toolreading import TORCH_VERSION, ToolReading

_ROW = re.compile(
    r"^[ \t]{0,4}(OS|Environment|Python|Install|CPU count|GPU count|CUDA|GPU)[ \t]++(\S.{0,200})$"
)  # matched on the line without its trailing blanks (a lazy value before them was quadratic)
# each row's value as collect_system_info prints it; anything else is not the table's row
_VALUES = {
    "OS": re.compile(r"(?:Linux|Windows|macOS|Darwin)-[\w.-]{1,120}"),
    "Environment": re.compile(r"Colab|Kaggle|Jupyter|Docker|Linux|Windows|Darwin|macOS"),
    "Python": re.compile(r"3\.\d{1,2}\.\d{1,2}"),
    "Install": re.compile(r"git|pip|other"),
    "CPU count": re.compile(r"\d{1,4}"),
    "GPU count": re.compile(r"\d{1,2}|None"),
    "CUDA": re.compile(r"\d{1,2}\.\d{1,2}|None"),
    "GPU": re.compile(r"(.{1,80}?), ?\d{1,7}MiB|None"),
}
_PACKAGE = re.compile(
    r"^([A-Za-z0-9][\w.-]{0,60})[ \t]++(?:(\u2705|\u274c)[ \t]*+)?"
    r"(\d{1,4}(?:\.\d{1,8}){0,4}(?:[a-z]{1,5}\d{0,8})?(?:\.?(?:post|dev)\d{1,8})?(?:\+[\w.]{1,60})?)"
    r"([<>=!~][^\s;]{0,200}(?:;.{0,200})?)?[ \t]*$"
)


def read_yolo_checks(text: str) -> ToolReading | None:
    """torch, its CUDA, the OS, Python, GPU 0 and the package versions from `yolo checks`'
    table; None where the text holds no such table (two of its rows) or no torch row."""
    rows: dict[str, str] = {}
    packages: dict[str, str] = {}
    for line in text.split("\n"):
        row = _ROW.match(line.rstrip())
        if row and _VALUES[row.group(1)].fullmatch(row.group(2)):
            rows.setdefault(row.group(1), row.group(2))
            continue
        package = _PACKAGE.match(line.strip())
        if package and (package.group(2) or package.group(4)):
            packages.setdefault(package.group(1).lower(), package.group(3))
    torch = packages.get("torch", "")
    if len(rows) < 2 or not re.fullmatch(TORCH_VERSION, torch):
        return None
    return _reading(rows, packages, torch)


def _reading(rows: dict[str, str], packages: dict[str, str], torch: str) -> ToolReading:
    out = ToolReading()
    out.put("PyTorch version", torch)
    out.put("Python version", rows.get("Python"))
    out.put("Python platform", rows.get("OS"))
    cuda = rows.get("CUDA")
    if cuda == "None":
        out.put("Is CUDA available", "False")
    elif cuda:
        out.put("CUDA used to build PyTorch", cuda)
        out.put("Is CUDA available", "True")
    gpu = _VALUES["GPU"].fullmatch(rows.get("GPU", ""))
    name = gpu_name(gpu.group(1)) if gpu and gpu.group(1) else None
    if name:
        out.gpus[0] = name
    out.packages.update({n: v for n, v in packages.items() if n != "torch"})
    out.packages = {"torch": torch, **out.packages}
    out.notes.append(
        "Ultralytics' `yolo checks` table ('OS  Windows-10-...', 'torch  ✅ 2.5.1+cu124>=1.8.0'): read"
    )
    return out
