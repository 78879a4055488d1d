"""A fleet of per-node facts files built from one recorded probe, for tests and benchmarks.

Every node is tests/fixtures/facts.cuda-venv+h100-driver-580-replayed.json (a real
probe's size, ~11 KB) with what really differs between identical nodes varied: host
name, collection time, probe timings and GPU UUID. `drift` then edits named nodes:
{node index: [("driver.version", "570.86.15"), ...]} (dotted paths into the document;
a value of None deletes the key).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

FIXTURE = (
    Path(__file__).resolve().parent.parent
    / "fixtures"
    / "facts.cuda-venv+h100-driver-580-replayed.json"
)
OLD_DRIVER = "570.86.15"  # an older R570 driver (NVIDIA's 570 release notes)


def gpu_node(i: int) -> str:
    return f"gpu-node-{i:03d}"


def node_doc(base_text: str, i: int, name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(base_text)
    doc["system"]["hostname"] = name
    doc["meta"]["collected_at"] = f"2026-11-23T03:{(i // 60) % 60:02d}:{i % 60:02d}Z"
    doc["meta"]["durations_ms"] = {
        k: round(v * (1 + (i % 7) / 100), 1) for k, v in doc["meta"]["durations_ms"].items()
    }
    for g in doc["driver"]["gpus"]:
        g["uuid"] = f"GPU-{i:08x}-0000-4000-8000-{g['index']:012x}"
    doc["torch"]["live"]["import_seconds"] = 1.2 + (i % 13) / 100
    return doc


def set_path(doc: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    d = doc
    for p in parents:
        d = d[p]
    if value is None:
        d.pop(last, None)
    else:
        d[last] = value


def write_fleet(
    directory: Path,
    count: int,
    drift: Mapping[int, Sequence[tuple[str, Any]]] = {},
    *,
    name: Callable[[int], str] = gpu_node,
    start: int = 0,
    indent: int | None = 2,
) -> list[str]:
    """Write `count` node files into `directory`; return the node names."""
    base_text = FIXTURE.read_text()
    directory.mkdir(parents=True, exist_ok=True)
    names = []
    for i in range(start, start + count):
        host = name(i)
        doc = node_doc(base_text, i, host)
        for path, value in drift.get(i, ()):
            set_path(doc, path, value)
        (directory / f"{host}.json").write_text(json.dumps(doc, indent=indent))
        names.append(host)
    return names


def three_drifts(count: int) -> dict[int, list[tuple[str, Any]]]:
    """Three kinds of drift spread over a fleet of `count`: an old driver on two nodes, an
    extra NCCL variable on one, and another torch build on a rack of 1/64th of the fleet."""
    drift: dict[int, list[tuple[str, Any]]] = {}
    drift.setdefault(7 % count, []).append(("driver.version", OLD_DRIVER))
    drift.setdefault(41 % count, []).append(("driver.version", OLD_DRIVER))
    drift.setdefault(13 % count, []).append(("env.variables.NCCL_IB_DISABLE", "1"))
    rack = max(count // 64, 1)
    for i in range(count - rack, count):
        drift.setdefault(i, []).append(("torch.version", "2.14.0+cu130"))
    return drift


def expand_hostlist(text: str) -> set[str]:
    """The names a (small) hostlist stands for, the plain way: the reference."""
    names: set[str] = set()
    depth, item, items = 0, "", []
    for c in text.strip():
        depth += (c == "[") - (c == "]")
        if c == "," and depth == 0:
            items.append(item)
            item = ""
        else:
            item += c
    items.append(item)
    for raw in items:
        partial = [""]
        for i, part in enumerate(re.split(r"\[([^\]]*)\]", raw.strip())):
            if i % 2 == 0:
                partial = [p + part for p in partial]
                continue
            numbers = []
            for piece in part.split(","):
                lo, _, hi = piece.strip().partition("-")
                width = len(lo) if len(lo) > 1 and lo[0] == "0" else 0
                numbers += [f"{n:0{width}d}" for n in range(int(lo), int(hi or lo) + 1)]
            partial = [p + n for p in partial for n in numbers]
        names.update(partial)
    return names
