"""`nvidia-smi` (the table) and `nvidia-smi -q` (the key : value listing) text -> a Draft."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Literal

from envlock.pasted.draft import Draft
from envlock.pasted.smi_health import read_health

if TYPE_CHECKING:
    from envlock.probe.shapes import GpuDoc

_HEADER = re.compile(
    r"NVIDIA-SMI\s+([\d.]+)\s+Driver Version:\s*([\d.]+)(?:\s+CUDA Version:\s*([\d.]+|N/A))?"
)
# The table is read cell by cell (split at "|") and -q lines at their first colon: a lazy
# `(.+?)\s+` or `\s*:\s*(.*?)\s*$` over a line of spaces took seconds per 20 KB line
# (issue 19). What is still a pattern is anchored, or starts at a run's first digit.
_BUS_ID = re.compile(r"[0-9A-Fa-f]{4,8}:[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}\.[0-7]")
_INDEX = re.compile(r"\d{1,3}")
_MODES = ("On", "Off", "WDDM", "TCC")
# "|     74MiB / 11439MiB |": (?<!\d) starts a number at its first digit only
_MEMORY = re.compile(r"(?<!\d)(\d+)MiB\s*/\s*(\d+)MiB")
_MIG = ("Enabled", "Disabled", "N/A")
# the "Compute M." column of the memory row: "|      0%   E. Process |"
_COMPUTE = ("Default", "E. Process", "E. Thread", "Prohibited")
_COMPUTE_NAMES = {
    "Default": "default",
    "E. Process": "exclusive_process",
    "E. Thread": "exclusive_thread",
    "Prohibited": "prohibited",
    "Exclusive_Process": "exclusive_process",
    "Exclusive_Thread": "exclusive_thread",
}
_Q_KEY = re.compile(r"[A-Za-z][A-Za-z0-9 ./()_-]*")
_Q_GPU = re.compile(r"^GPU ([0-9A-Fa-f]{4,8}:[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}\.[0-7])\s*$")


# What nvidia-smi prints (and only that) for a GPU whose handle NVML cannot get: one that
# fell off the bus ("...: Unknown Error", or "...: GPU is lost" for NVML_ERROR_GPU_IS_LOST)
_LOST = "Unable to determine the device handle for GPU"
# nvmlReturn_t: NVML_ERROR_GPU_IS_LOST 15, NVML_ERROR_UNKNOWN 999 (NVML API Reference)
_GPU_IS_LOST, _UNKNOWN = 15, 999


def looks_like_nvidia_smi(text: str) -> bool:
    return bool(
        _HEADER.search(text) or re.search(r"(?m)^Driver Version\s*:\s*\d", text) or _LOST in text
    )


def parse_nvidia_smi(text: str, draft: Draft) -> int:
    """Read either layout; returns how many facts were read (0: neither layout)."""
    found = _table(text, draft)
    found += _query(text, draft)
    read_health(text, draft)  # the -q blocks' ECC, row remap, page retirement, fabric lines
    found += _lost(text, draft)
    return found


def _lost(text: str, d: Draft) -> int:
    """Each GPU nvidia-smi could not get a handle for: a GPU, lost, at the next index."""
    found = 0
    for line in text.splitlines():
        at = line.find(_LOST)
        if at < 0:
            continue
        bus = _BUS_ID.search(line, at + len(_LOST))
        code = _GPU_IS_LOST if "GPU is lost" in line else _UNKNOWN
        index = len(d.gpus or [])
        gpu: GpuDoc = {
            "index": index,
            "name": None,
            "pci_bus_id": bus.group(0) if bus else None,
            "health": {"lost": True, "returns": {"nvmlDeviceGetHandleByIndex": code}},
        }
        d.add_gpu(gpu)
        found += 1
    return found


def _table(text: str, d: Draft) -> int:
    found = _table_header(text, d)
    last: GpuDoc | None = None  # the GPU whose memory row comes next
    for line in text.splitlines():
        row = _row(line.strip())
        if row:
            last = _table_gpu(row, d)
            found += 1
            continue
        if last is not None and _table_memory(line, last):
            last = None
    return found


def _table_header(text: str, d: Draft) -> int:
    """The driver and CUDA versions of the table's "NVIDIA-SMI ..." line; 1 if found."""
    header = _HEADER.search(text)
    if not header:
        return 0
    d.set_default(d.driver, "version", header.group(2))
    if header.group(3) not in (None, "N/A"):
        d.set_default(d.driver, "cuda_version", header.group(3))
    return 1


def _table_gpu(row: tuple[str, str, str, str, str], d: Draft) -> GpuDoc:
    """The GPU of a table row (see _row), added to the draft; its memory row fills it."""
    index, name, mode, bus_id, ecc = row
    gpu: GpuDoc = {
        "index": int(index),
        # a name cut by the table ("NVIDIA GeForce ...") is not a model name
        "name": None if name.endswith("...") else name,
        "pci_bus_id": bus_id,
    }
    # "Volatile Uncorr. ECC" is nvmlDeviceGetTotalEccErrors(UNCORRECTED, VOLATILE) as NVML
    # answered it; "N/A" (ECC off or not supported) says nothing, so nothing is recorded
    if ecc.isdigit() and len(ecc) < 19:
        gpu["health"] = {
            "lost": False,
            "ecc_volatile_uncorrected": int(ecc),
            "returns": {"nvmlDeviceGetTotalEccErrors": 0},
        }
    if mode in ("On", "Off"):
        gpu["persistence_mode"] = mode == "On"
    if name.endswith("..."):
        d.note(f"nvidia-smi cut GPU {index}'s name ({name}): model not known")
    d.add_gpu(gpu)
    return gpu


def _table_memory(line: str, gpu: GpuDoc) -> bool:
    """Fill `gpu` from its memory row (total memory, compute and MIG modes); False when
    `line` is not that row."""
    mem = _MEMORY.search(line)
    if not mem or gpu.get("memory_total_bytes") is not None:
        return False
    gpu["memory_total_bytes"] = int(mem.group(2)) * 1024 * 1024
    cell = _last_cell(line)
    compute = next((c for c in _COMPUTE if cell and cell.endswith(c)), None)
    if compute:
        gpu["compute_mode"] = _COMPUTE_NAMES[compute]
    if cell in _MIG and cell != "N/A":
        gpu["mig_mode"] = cell == "Enabled"
    return True


def _row(line: str) -> tuple[str, str, str, str, str] | None:
    """(index, name, mode, bus id, Volatile Uncorr. ECC cell) of a GPU row (a stripped line):
    "|   0  NVIDIA A100-SXM4-80GB          On  | 00000000:07:00.0 Off |     0 |"."""
    if not line.startswith("|"):
        return None
    cells = line[1:].split("|", 2)
    if len(cells) < 2 or not cells[0][:1].isspace():
        return None
    parts = cells[0].split(None, 1)
    if len(parts) < 2 or not _INDEX.fullmatch(parts[0]):
        return None
    name_mode = parts[1].rsplit(None, 1)
    if len(name_mode) < 2 or name_mode[1] not in _MODES:
        return None
    bus_id = _BUS_ID.match(cells[1].lstrip())
    if not bus_id:
        return None
    ecc = cells[2].partition("|")[0].strip() if len(cells) > 2 else ""
    return parts[0], name_mode[0].strip(), name_mode[1], bus_id.group(), ecc


def _last_cell(line: str) -> str | None:
    """The last cell of a table line that ends in "|", stripped."""
    line = line.strip()
    if not line.endswith("|"):
        return None
    return line[:-1].rpartition("|")[2].strip()


def _query_line(line: str) -> tuple[int, str, str] | None:
    """(indent, key, value) of a `-q` line, "    Product Name         : NVIDIA A100"."""
    head, colon, value = line.partition(":")
    key = head.strip()
    if not colon or not _Q_KEY.fullmatch(key):
        return None
    return len(head) - len(head.lstrip()), key, value.strip()


def _query(text: str, d: Draft) -> int:
    """`nvidia-smi -q`: top-level Driver/CUDA Version, then one block per `GPU <bus id>`."""
    found = 0
    gpu: GpuDoc | None = None
    parent = ""
    index = 0
    for raw in text.splitlines():
        line = raw.rstrip()
        g = _Q_GPU.match(line)
        if g:
            gpu = {"index": index, "pci_bus_id": g.group(1)}
            index += 1
            d.add_gpu(gpu)
            found += 1
            parent = ""
            continue
        m = _query_line(line)
        if not m:
            if line.strip() and gpu is not None:
                parent = line.strip()  # a group heading: "    MIG Mode", "    FB Memory Usage"
            continue
        indent, key, value = m
        if not value:
            parent = key
        elif gpu is None:
            found += _query_top(key, value, d)
        else:
            parent = "" if indent <= 4 else parent
            _query_gpu(gpu, parent, key, value)
    return found


def _query_top(key: str, value: str, d: Draft) -> int:
    """A line before the first GPU block: the driver's version (1) or its CUDA version."""
    if key == "Driver Version" and re.match(r"\d+\.\d+", value):
        d.set_default(d.driver, "version", value)
        return 1
    if key == "CUDA Version" and re.match(r"\d+\.\d+$", value):
        d.set_default(d.driver, "cuda_version", value)
    return 0


# Enabled/Disabled lines: a key, or ("Current", the group it is in)
_Q_FLAGS: dict[tuple[str, str], Literal["persistence_mode", "mig_mode", "ecc_mode"]] = {
    ("", "Persistence Mode"): "persistence_mode",
    ("MIG Mode", "Current"): "mig_mode",
    ("Ecc Mode", "Current"): "ecc_mode",
}


def _query_gpu(gpu: GpuDoc, parent: str, key: str, value: str) -> None:
    """One line of a GPU block (`parent`: the group heading it is under, if any)."""
    flag = _Q_FLAGS.get((parent if key == "Current" else "", key))
    if flag and value in ("Enabled", "Disabled"):
        gpu[flag] = value == "Enabled"
    elif key == "Product Name":
        gpu["name"] = value[:120]
    elif key == "Product Brand":
        gpu["brand"] = value.lower().replace(" ", "_")[:40]
    elif key == "GPU UUID":
        gpu["uuid"] = value[:80]
    elif key == "Compute Mode" and value in _COMPUTE_NAMES:
        gpu["compute_mode"] = _COMPUTE_NAMES[value]
    elif key == "Total" and parent == "FB Memory Usage":
        mem = re.match(r"(\d+) MiB", value)
        if mem:
            gpu["memory_total_bytes"] = int(mem.group(1)) * 1024 * 1024
