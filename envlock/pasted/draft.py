"""What a pasted text says, gathered section by section before it becomes Facts.

The parsers of pasted text (collect_env, nvidia-smi, pip freeze) fill one Draft;
`Draft.facts()` turns it into partial Facts. A section nothing was read for is
"unavailable: not in the pasted text": the checks then skip it rather than
judge an absence that was never observed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeVar, cast

from envlock.probe.shapes import (
    CudaLibDoc,
    DriverDoc,
    ExtensionDoc,
    FactsDoc,
    GpuDoc,
    SystemDoc,
    ToolchainDoc,
    ToolkitDoc,
    TorchDoc,
    TorchLiveDoc,
)

NOT_IN_PASTE = "not in the pasted text"
MAX_NOTES = 50
MAX_GPUS = 256
MAX_PACKAGES = 5000
# The longest line in the recorded reports is some 500 characters (an lscpu Flags line or
# a long LD_LIBRARY_PATH reaches 2,000): a longer line is not part of a report, nor are
# more lines than MAX_LINES. Skipping them bounds what the parsers see, whatever a paste
# holds (a 16 MiB paste of line breaks is 16 million lines).
MAX_LINE_CHARS = 8192
MAX_LINES = 20_000  # nvidia-smi -q of 16 GPUs is some 5,000 lines, a pip freeze 5,000 at most
_LINE_BREAKS = re.compile("\r\n|[\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
MAX_NAMES = 8  # user and host names kept from a paste's prompts and home paths

_NAME_NORMALIZE = re.compile(r"[-_.]+")

# the note of a report whose interpreter has no torch (checks/runtime reads it: absent, not
# unknown, which a partial Facts' torch otherwise is)
TORCH_NOT_IMPORTED = "PyTorch version: N/A: collect_env could not import torch"
# the note of vLLM's copy of collect_env (its 'PyTorch Info' / 'vLLM Info' sections): a report
# from a vLLM environment even where the excerpt ends before its vLLM lines (vllm#31700)
VLLM_REPORT = "vLLM's collect_env (its sections)"
# the notes of lines naming an accelerator other than NVIDIA's (pasted/accel_lines.py), read
# by checks/accelerators where no package list names it: the prefix, then "hpu: <the line>"
ACCELERATOR_SEEN = "accelerator in the paste: "


def normalize(name: str) -> str:
    """PEP 503 name normalization."""
    return _NAME_NORMALIZE.sub("-", name).lower()


@dataclass
class Draft:
    """Sections of a probe-shaped facts document, filled by the parsers."""

    sources: list[str] = field(default_factory=list)
    system: SystemDoc = field(default_factory=SystemDoc)
    driver: DriverDoc = field(default_factory=DriverDoc)
    gpus: list[GpuDoc] | None = None  # None: not observed
    toolkit: ToolkitDoc = field(default_factory=ToolkitDoc)
    wheels: dict[str, str] = field(default_factory=dict)
    torch: TorchDoc = field(default_factory=TorchDoc)
    live: TorchLiveDoc = field(default_factory=TorchLiveDoc)
    packages: dict[str, str] = field(default_factory=dict)
    packages_complete: bool = False  # pip freeze lists all; collect_env only a few
    conda: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    toolchain: ToolchainDoc = field(default_factory=ToolchainDoc)
    redacted: list[str] = field(default_factory=list)
    system_libraries: list[str] = field(default_factory=list)
    # GPU name -> compute capability, from torch's own warnings printed into the report
    warned_capabilities: dict[str, str] = field(default_factory=dict)
    # compiled extensions whose import error named the CUDA runtime they link (vLLM's warning)
    extensions: list[ExtensionDoc] = field(default_factory=list)
    # torch printed "Found no NVIDIA driver on your system" into the paste
    torch_found_no_driver: bool = False
    # torch printed "Can't initialize NVML": the driver's management library did not load
    torch_nvml_failed: bool = False
    # who ran the commands and where (shell prompts, home paths): for envlock report to replace
    users: list[str] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # text -> what of it was skipped
    notes: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        if len(self.notes) < MAX_NOTES and text not in self.notes:
            self.notes.append(text)

    def readable(self, text: str, what: str) -> str:
        """`text` as the parsers read it: its first MAX_LINES lines, without those longer
        than MAX_LINE_CHARS; what was left out is noted (`what` names the text)."""
        # every line break str.splitlines() knows, as "\n": one split, bounded by MAX_LINES
        lines = _LINE_BREAKS.sub("\n", text).split("\n", MAX_LINES)
        rest = lines.pop() if len(lines) > MAX_LINES else None
        kept = [line for line in lines if len(line) <= MAX_LINE_CHARS]
        notes = []
        if len(kept) < len(lines):
            n = len(lines) - len(kept)
            notes.append(
                f"{n} line{'s' if n > 1 else ''} longer than {MAX_LINE_CHARS} characters skipped"
            )
        if rest is not None:
            notes.append(f"lines after the {MAX_LINES}th skipped")
        if not notes:
            return text
        self.skipped[what] = "; ".join(notes)
        self.note(f"{what}: {self.skipped[what]} (no report is that long)")
        return "\n".join(kept)

    def add_name(self, kind: list[str], name: str) -> None:
        if name not in kind and len(kind) < MAX_NAMES:
            kind.append(name)

    def set_default(self, section: Mapping[str, object], key: str, value: object) -> None:
        """Set a value of one of the draft's sections unless an earlier source gave one."""
        if value is not None and section.get(key) is None:
            cast("dict[str, object]", section)[key] = value

    def add_gpu(self, gpu: GpuDoc) -> None:
        if self.gpus is None:
            self.gpus = []
        if len(self.gpus) >= MAX_GPUS:
            self.note(f"more than {MAX_GPUS} GPUs listed: the rest are ignored")
            return
        for known in self.gpus:
            if known["index"] == gpu["index"]:
                for k, v in gpu.items():
                    self.set_default(known, k, v)
                return
        self.gpus.append(gpu)

    def add_package(self, name: str, version: str) -> None:
        if len(self.packages) >= MAX_PACKAGES:
            self.note(f"more than {MAX_PACKAGES} packages listed: the rest are ignored")
            return
        key = normalize(name)
        self.packages.setdefault(key, version)
        if key.startswith(("nvidia-", "cuda-")):
            self.wheels.setdefault(key, version)

    @property
    def observed(self) -> bool:
        return bool(
            self.system
            or self.driver
            or self.gpus is not None
            or self.toolkit
            or self.torch
            or self.packages
            or self.env
        )

    def facts_dict(self, *, envlock_version: str, collected_at: str, target: str) -> FactsDoc:
        """A probe-shaped facts document (validated by Facts.from_dict)."""
        notes = list(self.notes)
        if self.packages and not self.packages_complete:
            notes.append(
                "packages: only the few that collect_env lists (give --pip-freeze for all)"
            )
        return {
            "facts_version": 1,
            "meta": {
                "envlock_version": envlock_version,
                "collected_at": collected_at,
                "target": target,
                "partial": True,
                "notes": notes[:MAX_NOTES],
            },
            "system": self._system_section(),
            "driver": self._driver_section(),
            "cuda": self._cuda_section(),
            "torch": self._torch_section(),
            "packages": (
                {"distributions": dict(sorted(self.packages.items()))}
                if self.packages
                else {"unavailable": NOT_IN_PASTE}
            ),
            "env": (
                {"variables": dict(sorted(self.env.items())), "redacted": sorted(self.redacted)}
                if self.env or self.redacted
                else {"unavailable": NOT_IN_PASTE}
            ),
            "toolchain": self._toolchain_section(),
            **({"extensions": {"items": self._extensions()}} if self.extensions else {}),
        }

    def _extensions(self) -> list[ExtensionDoc]:
        """The extensions, each at the version the library list gives its distribution (else
        the one its own report named)."""
        return [
            {**e, "version": self.packages.get(e["distribution"]) or e.get("version")}
            for e in self.extensions
        ]

    def _system_section(self) -> SystemDoc:
        system = _present(self.system, leave_out=("os", "python"))
        if self.system.get("os"):
            system["os"] = self.system["os"]
        if self.system.get("python"):
            system["python"] = self.system["python"]
        return system or {"unavailable": NOT_IN_PASTE}

    def _driver_section(self) -> DriverDoc:
        driver = _present(self.driver)
        if self.gpus is not None:
            driver["gpus"] = sorted(self.gpus, key=lambda g: g["index"])
        # source "pasted": the checks tell a driver the report does not mention from none
        driver = driver or {"unavailable": NOT_IN_PASTE}
        driver["source"] = "pasted"
        return driver

    def _cuda_section(self) -> CudaLibDoc:
        cuda: CudaLibDoc = {}
        if self.toolkit:
            cuda["toolkit"] = self.toolkit.copy()
        if self.wheels:
            cuda["wheels"] = [
                {"name": n, "version": v, "cuda_major": _wheel_major(n, v)}
                for n, v in sorted(self.wheels.items())
            ]
        if self.system_libraries:
            cuda["ldconfig_libraries"] = sorted(set(self.system_libraries))
        return cuda or {"unavailable": NOT_IN_PASTE}

    def _torch_section(self) -> TorchDoc:
        torch = _present(self.torch)
        if self.live:
            torch["live"] = self.live.copy()
        return torch or {"unavailable": NOT_IN_PASTE}

    def _toolchain_section(self) -> ToolchainDoc:
        toolchain = _present(self.toolchain)
        if self.conda:
            toolchain["conda_packages"] = dict(sorted(self.conda.items()))
        return toolchain or {"unavailable": NOT_IN_PASTE}


_Section = TypeVar("_Section", bound=Mapping[str, object])


def _present(section: _Section, leave_out: tuple[str, ...] = ()) -> _Section:
    """A copy of a section without its None values (and the keys in `leave_out`)."""
    kept = {k: v for k, v in section.items() if k not in leave_out and v is not None}
    return cast("_Section", kept)


def _wheel_major(name: str, version: str) -> int | None:
    """The CUDA major of an nvidia-*/cuda-* wheel from its name (-cu12), as the probe does;
    the unsuffixed CUDA 13 wheels say it only in their install paths: not known here."""
    m = re.search(r"-cu(\d+)$", name)
    if m:
        return int(m.group(1))
    if name in ("cuda-toolkit", "cuda-bindings", "cuda-python", "cuda-core"):
        m = re.match(r"(\d+)\.", version)
        return int(m.group(1)) if m else None
    return None


def rewritten_as_collect_env(
    kept: list[str], lines: list[str], gpus: dict[int, str], packages: list[str]
) -> str:
    """Another layout's report rewritten as collect_env text: the lines it kept as they
    were, then its fields as `Key: value` lines (`lines`), its GPUs as collect_env's GPU
    block and its packages as the library list (pasted/check_env.py, pasted/d2table.py)."""
    if gpus:
        lines = [*lines, "GPU models and configuration:"]
        lines += [f"GPU {i}: {name}" for i, name in sorted(gpus.items())]
    if packages:
        lines = [*lines, "", "Versions of relevant libraries:", *packages]
    return "\n".join([*kept, "", *lines]) + "\n"
