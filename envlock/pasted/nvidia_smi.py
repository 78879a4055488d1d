"""`nvidia-smi` (the table) and `nvidia-smi -q` (the key : value listing) text -> a Draft."""

from __future__ import annotations

import re

from envlock.pasted.draft import Draft

_HEADER = re.compile(
    r"NVIDIA-SMI\s+([\d.]+)\s+Driver Version:\s*([\d.]+)(?:\s+CUDA Version:\s*([\d.]+|N/A))?"
)
# |   0  NVIDIA A100-SXM4-80GB          On  | 00000000:07:00.0 Off |                    0 |
_ROW = re.compile(
    r"^\|\s+(\d{1,3})\s+(.+?)\s+(On|Off|WDDM|TCC)\s*\|\s*([0-9A-Fa-f]{4,8}:[0-9A-Fa-f]{2}:"
    r"[0-9A-Fa-f]{2}\.[0-7])"
)
_MEMORY = re.compile(r"(\d+)MiB\s*/\s*(\d+)MiB")
_MIG = re.compile(r"\|\s*(Enabled|Disabled|N/A)\s*\|\s*$")
# the "Compute M." column of the memory row: "|      0%   E. Process |"
_COMPUTE = re.compile(r"(Default|E\. Process|E\. Thread|Prohibited)\s*\|\s*$")
_COMPUTE_NAMES = {
    "Default": "default",
    "E. Process": "exclusive_process",
    "E. Thread": "exclusive_thread",
    "Prohibited": "prohibited",
    "Exclusive_Process": "exclusive_process",
    "Exclusive_Thread": "exclusive_thread",
}
_Q_KEY = re.compile(r"^(\s*)([A-Za-z][A-Za-z0-9 ./()_-]*?)\s*:\s*(.*?)\s*$")
_Q_GPU = re.compile(r"^GPU ([0-9A-Fa-f]{4,8}:[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}\.[0-7])\s*$")


def looks_like_nvidia_smi(text: str) -> bool:
    return bool(_HEADER.search(text) or re.search(r"(?m)^Driver Version\s*:\s*\d", text))


def parse_nvidia_smi(text: str, draft: Draft) -> int:
    """Read either layout; returns how many facts were read (0: neither layout)."""
    found = _table(text, draft)
    found += _query(text, draft)
    return found


def _table(text: str, d: Draft) -> int:
    found = 0
    header = _HEADER.search(text)
    if header:
        d.set_default(d.driver, "version", header.group(2))
        if header.group(3) not in (None, "N/A"):
            d.set_default(d.driver, "cuda_version", header.group(3))
        found += 1
    last: dict[str, object] | None = None
    for line in text.splitlines():
        row = _ROW.match(line.strip())
        if row:
            name = row.group(2).strip()
            gpu: dict[str, object] = {
                "index": int(row.group(1)),
                # a name cut by the table ("NVIDIA GeForce ...") is not a model name
                "name": None if name.endswith("...") else name,
                "pci_bus_id": row.group(4),
            }
            if row.group(3) in ("On", "Off"):
                gpu["persistence_mode"] = row.group(3) == "On"
            if name.endswith("..."):
                d.note(f"nvidia-smi cut GPU {row.group(1)}'s name ({name}): model not known")
            d.add_gpu(gpu)
            last = gpu
            found += 1
            continue
        if last is not None:
            mem = _MEMORY.search(line)
            if mem and last.get("memory_total_bytes") is None:
                last["memory_total_bytes"] = int(mem.group(2)) * 1024 * 1024
                mode = _COMPUTE.search(line.strip())
                if mode:
                    last["compute_mode"] = _COMPUTE_NAMES[mode.group(1)]
                mig = _MIG.search(line.strip())
                if mig and mig.group(1) != "N/A":
                    last["mig_mode"] = mig.group(1) == "Enabled"
                last = None
    return found


def _query(text: str, d: Draft) -> int:
    """`nvidia-smi -q`: top-level Driver/CUDA Version, then one block per `GPU <bus id>`."""
    found = 0
    gpu: dict[str, object] | None = None
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
        m = _Q_KEY.match(line)
        if not m:
            if line.strip() and gpu is not None:
                parent = line.strip()  # a group heading: "    MIG Mode", "    FB Memory Usage"
            continue
        indent, key, value = len(m.group(1)), m.group(2).strip(), m.group(3)
        if not value:
            parent = key
            continue
        if gpu is None:
            if key == "Driver Version" and re.match(r"\d+\.\d+", value):
                d.set_default(d.driver, "version", value)
                found += 1
            elif key == "CUDA Version" and re.match(r"\d+\.\d+$", value):
                d.set_default(d.driver, "cuda_version", value)
            continue
        if indent <= 4:
            parent = ""
        if key == "Product Name":
            gpu["name"] = value[:120]
        elif key == "Product Brand":
            gpu["brand"] = value.lower().replace(" ", "_")[:40]
        elif key == "GPU UUID":
            gpu["uuid"] = value[:80]
        elif key == "Persistence Mode" and value in ("Enabled", "Disabled"):
            gpu["persistence_mode"] = value == "Enabled"
        elif key == "Current" and parent == "MIG Mode" and value in ("Enabled", "Disabled"):
            gpu["mig_mode"] = value == "Enabled"
        elif key == "Current" and parent == "Ecc Mode" and value in ("Enabled", "Disabled"):
            gpu["ecc_mode"] = value == "Enabled"
        elif key == "Compute Mode" and value in _COMPUTE_NAMES:
            gpu["compute_mode"] = _COMPUTE_NAMES[value]
        elif key == "Total" and parent == "FB Memory Usage":
            mem = re.match(r"(\d+) MiB", value)
            if mem:
                gpu["memory_total_bytes"] = int(mem.group(1)) * 1024 * 1024
    return found
