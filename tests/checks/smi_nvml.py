"""Recorded `nvidia-smi -q` text -> the NVML answers it prints, for the fake pynvml.

nvidia-smi is a client of NVML: each `-q` line is one NVML query's answer, formatted
(NVML API Reference, https://docs.nvidia.com/deploy/nvml-api/, and nvidia-smi(1)). This
reads the tree of a real recording (indentation is nesting) and writes the recording
format tests/probe/fakes.py replays, so the probe (envlock.probe.nvml) reads real
answers instead of edited ones. Independent of envlock's own `-q` reader
(envlock/pasted/): the pasted path and this one are two readings of the same text.

A line printed "N/A" is a query NVML did not support here: the fake answers
NVML_ERROR_NOT_SUPPORTED, as the real library did. A GPU whose handle nvidia-smi could
not get ("Unable to determine the device handle for GPU <bus>: <error>") answers that
error from nvmlDeviceGetHandleByIndex. A grep excerpt with no `GPU <bus id>` line is one
GPU's block.
"""

from __future__ import annotations

import re
from typing import Any

# nvmlReturn_t (NVML API Reference, Device Enums) by the text nvmlErrorString gives it,
# which is what nvidia-smi prints for a failed query or a fabric registration status.
ERROR_TEXTS = {
    "Success": 0,
    "Not Supported": 3,
    "Insufficient Resources": 23,
    "GPU is lost": 15,
    "Unknown Error": 999,
}
NOT_SUPPORTED = {"raise": 3, "text": "Not Supported"}
# nvmlGpuFabricState_t: NOT_SUPPORTED 0, NOT_STARTED 1, IN_PROGRESS 2, COMPLETED 3
FABRIC_STATES = {"Not Supported": 0, "Not Started": 1, "In Progress": 2, "Completed": 3}

_GPU = re.compile(r"^GPU ([0-9A-Fa-f]{4,8}:[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}\.[0-7])\s*$")
_LOST = re.compile(
    r"Unable to determine the device handle for GPU\s*"
    r"([0-9A-Fa-f]{4,8}:[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}\.[0-7]):\s*(.+?)\s*$"
)

Tree = dict[tuple[str, ...], str]


def _blocks(text: str) -> tuple[Tree, list[tuple[str | None, Tree]]]:
    """(top-level lines, [(bus id, that GPU's lines)]); each line keyed by its heading path."""
    top: Tree = {}
    gpus: list[tuple[str | None, Tree]] = []
    stack: list[tuple[int, str]] = []  # (indent, heading) of the open groups
    current = top
    for raw in text.splitlines():
        line = raw.rstrip()
        gpu = _GPU.match(line)
        if gpu:
            current, stack = {}, []
            gpus.append((gpu.group(1), current))
            continue
        if not line.strip() or line.startswith("="):
            continue
        indent = len(line) - len(line.lstrip())
        key, colon, value = line.strip().partition(":")
        while stack and stack[-1][0] >= indent:
            stack.pop()
        if not colon or not value.strip():
            stack.append((indent, key.strip()))
            continue
        path = (*[h for _, h in stack], key.strip())
        current[path] = value.strip()
    if not gpus and any(len(k) > 1 for k in top):  # a grep excerpt of one GPU's block
        gpus.append((None, top))
    return top, gpus


def _flag(value: str | None) -> int | None:
    return {"Enabled": 1, "Disabled": 0, "Yes": 1, "No": 0}.get(value or "")


def _answer(value: Any) -> Any:
    return NOT_SUPPORTED if value is None else value


def _ecc_volatile_uncorrected(tree: Tree) -> int | None:
    """nvmlDeviceGetTotalEccErrors(UNCORRECTED, VOLATILE): the Volatile subtree's
    uncorrectable counts summed (Ampere+: SRAM and DRAM lines; before: Double Bit's Total)."""
    old = tree.get(("ECC Errors", "Volatile", "Double Bit", "Total"))
    if old is not None:
        return int(old) if old.isdigit() else None
    values = [
        v
        for k, v in tree.items()
        if k[:2] == ("ECC Errors", "Volatile") and "Uncorrectable" in k[-1]
    ]
    if not values or not all(v.isdigit() for v in values):
        return None
    return sum(int(v) for v in values)


def _remapped_rows(tree: Tree) -> list[int] | None:
    """nvmlDeviceGetRemappedRows: (corrRows, uncRows, isPending, failureOccurred)."""
    rows = ("Remapped Rows",)
    corr = tree.get((*rows, "Correctable Error"))
    unc = tree.get((*rows, "Uncorrectable Error"))
    pending = _flag(tree.get((*rows, "Pending")))
    # an excerpt may stop before the failure line: absent there is "no failure" only
    # when the excerpt printed the pending line (NVML answers all four together)
    failed = _flag(tree.get((*rows, "Remapping Failure Occurred"), "No"))
    if corr is None or unc is None or pending is None or failed is None:
        return None  # one line "N/A" is the one answer's (NVML gives the four together)
    if not (corr.isdigit() and unc.isdigit()):
        return None
    return [int(corr), int(unc), pending, failed]


def _fabric(tree: Tree) -> dict[str, Any] | None:
    """nvmlDeviceGetGpuFabricInfo's structure: state and status (nvmlGpuFabricInfo_t)."""
    state = FABRIC_STATES.get(tree.get(("Fabric", "State"), ""))
    if state is None:
        return None  # "N/A": the query is not supported on this GPU
    printed = tree.get(("Fabric", "Status"), "N/A")
    if printed == "N/A":  # no status to give: the structure's field is left unread
        return {"fills": {"state": state}}
    # a text without its code here is still an error (-1, as the probe records one)
    return {"fills": {"state": state, "status": ERROR_TEXTS.get(printed, -1)}}


def _device(bus: str | None, tree: Tree) -> dict[str, Any]:
    device: dict[str, Any] = {}
    if ("Product Name",) in tree:
        device["nvmlDeviceGetName"] = tree[("Product Name",)]
    if bus is not None:
        device["nvmlDeviceGetPciInfo_v3"] = {"busId": bus}
    if ("GPU UUID",) in tree:
        device["nvmlDeviceGetUUID"] = tree[("GPU UUID",)]
    total = re.match(r"(\d+) MiB", tree.get(("FB Memory Usage", "Total"), ""))
    if total:
        device["nvmlDeviceGetMemoryInfo"] = {"total": int(total.group(1)) * 2**20}
    for name, group in (("nvmlDeviceGetMigMode", "MIG Mode"), ("nvmlDeviceGetEccMode", "ECC Mode")):
        current, pending = (_flag(tree.get((group, k))) for k in ("Current", "Pending"))
        if (group, "Current") in tree:
            device[name] = NOT_SUPPORTED if current is None else [current, pending or 0]
    persistence = _flag(tree.get(("Persistence Mode",)))
    if persistence is not None:
        device["nvmlDeviceGetPersistenceMode"] = persistence
    # the health queries envlock.probe.nvml._health asks
    if ("ECC Errors", "Volatile") in {k[:2] for k in tree}:
        ecc = _ecc_volatile_uncorrected(tree)
        device["nvmlDeviceGetTotalEccErrors"] = (
            {"by_args": {"1,0": ecc}} if ecc is not None else NOT_SUPPORTED
        )
    if ("Remapped Rows", "Pending") in tree:
        device["nvmlDeviceGetRemappedRows"] = _answer(_remapped_rows(tree))
    blacklist = tree.get(("Retired Pages", "Pending Page Blacklist"))
    if blacklist is not None:
        device["nvmlDeviceGetRetiredPagesPendingStatus"] = _answer(_flag(blacklist))
    dbe = tree.get(("Retired Pages", "Double Bit ECC"))
    if dbe is not None:
        pages = [0] * int(dbe) if dbe.isdigit() else None  # the addresses are not printed
        device["nvmlDeviceGetRetiredPages"] = (
            NOT_SUPPORTED if pages is None else {"by_args": {"1": pages}}
        )
    if ("Fabric", "State") in tree:
        device["nvmlDeviceGetGpuFabricInfo"] = _answer(_fabric(tree))
    return device


def _cuda(version: str | None) -> int | None:
    m = re.fullmatch(r"(\d+)\.(\d+)", version or "")
    return int(m.group(1)) * 1000 + int(m.group(2)) * 10 if m else None


def recording_from_smi(text: str) -> dict[str, Any]:
    """The fake pynvml's recording (tests/probe/fakes.py) of what this `-q` text prints."""
    top, gpus = _blocks(text)
    recording: dict[str, Any] = {}
    if ("Driver Version",) in top:
        recording["nvmlSystemGetDriverVersion"] = top[("Driver Version",)]
    cuda = _cuda(top.get(("CUDA Version",)))
    if cuda is not None:
        recording["nvmlSystemGetCudaDriverVersion_v2"] = cuda
    lost = [m for m in map(_LOST.search, text.splitlines()) if m]
    if lost and not gpus:
        # nvidia-smi printed only the failed handle: every index answers that error
        said = lost[0].group(2)  # "Unknown Error", "GPU is lost. Reboot the system ..."
        code = next((c for t, c in ERROR_TEXTS.items() if said.startswith(t)), 999)
        recording["nvmlDeviceGetCount"] = len(lost)
        recording["nvmlDeviceGetHandleByIndex_v2"] = {"raise": code, "text": said}
        return recording
    recording["nvmlDeviceGetCount"] = len(gpus)
    recording["devices"] = [_device(bus, tree) for bus, tree in gpus]
    return recording
