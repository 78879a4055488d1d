"""collect_env's CPU block: lscpu's lines on Linux (`Model name:`, `CPU(s):`, `Flags:`),
wmic's `Key=Value` lines on Windows. The lines come stripped, the block's first line
(the "CPU:" key line) left out."""

from __future__ import annotations

import re

from envlock.pasted.draft import Draft
from envlock.probe.libnames import ISA_FLAGS

# lscpu keys of the CPU block (its lines are stripped)
_CPU_MODEL = re.compile(r"(Model name|Name)\s*[:=]\s*(.+)")
_CPU_COUNT = re.compile(r"^\s*CPU\(s\)\s*:\s*(\d{1,6})\s*$")
_CPU_ARCH = re.compile(r"^\s*Architecture\s*:\s*([A-Za-z0-9_]+)\s*$")


def cpu_system(lines: list[str], d: Draft) -> None:
    """lscpu's model, CPU count and architecture from the CPU block (its first line left out)."""
    for line in lines:
        model = _CPU_MODEL.match(line)
        if model and "cpu_model" not in d.system:
            d.system["cpu_model"] = model.group(2)[:200]
        count = _CPU_COUNT.match(line)
        if count and "cpu_count" not in d.system:
            d.system["cpu_count"] = int(count.group(1))
        arch = _CPU_ARCH.match(line)
        if arch:
            d.set_default(d.system, "arch", arch.group(1))


def cpu_toolchain(lines: list[str], d: Draft) -> None:
    """The CPU's instruction set extensions (Flags) and NUMA nodes, as the probe's toolchain."""
    for line in lines:
        flags = re.match(r"^\s*Flags\s*:\s*(.+)$", line)
        if flags:
            present = set(flags.group(1).split())
            d.toolchain["cpu_isa"] = [f for f in ISA_FLAGS if f in present]
        numa = re.match(r"^\s*NUMA node\(s\)\s*:\s*(\d{1,4})\s*$", line)
        if numa:
            d.toolchain["numa_nodes"] = int(numa.group(1))
