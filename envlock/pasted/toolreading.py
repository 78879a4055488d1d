"""What a reader of another tool's environment report found (envlock/pasted/toolenv.py): the
collect_env lines it stands for, the GPUs' capabilities, extensions and notes."""

from __future__ import annotations

from dataclasses import dataclass, field

from envlock.probe.shapes import ExtensionDoc

# a torch version as the tools print it ("2.1.2", "2.6.0+cu126", "2.0.0a0+gite9ebda2",
# "2.4.0.dev20240326+cu121"): the one grammar of the readers' torch lines (a regex source)
TORCH_VERSION = r"\d+\.\d+(?:\.\d+)?(?:[a-z]+\d*)?(?:\.dev\d+)?(?:\+[a-z0-9.]+)?"


@dataclass
class ToolReading:
    """What one reader found: collect_env fields (key -> value, first wins), GPUs by index
    (name, compute capability), library lines, extensions, notes."""

    fields: dict[str, str] = field(default_factory=dict)
    gpus: dict[int, str] = field(default_factory=dict)
    capabilities: dict[int, str] = field(default_factory=dict)
    packages: dict[str, str] = field(default_factory=dict)
    extensions: list[ExtensionDoc] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def put(self, key: str, value: str | None) -> None:
        if value:
            self.fields.setdefault(key, value)

    def merge(self, other: ToolReading) -> None:
        for key, value in other.fields.items():
            self.put(key, value)
        for index, name in other.gpus.items():
            self.gpus.setdefault(index, name)
        for index, cc in other.capabilities.items():
            self.capabilities.setdefault(index, cc)
        for name, version in other.packages.items():
            self.packages.setdefault(name, version)
        self.extensions += [e for e in other.extensions if e not in self.extensions]
        self.notes += [n for n in other.notes if n not in self.notes]

    def collect_env_lines(self) -> list[str]:
        lines = [f"{key}: {value}" for key, value in self.fields.items()]
        if self.gpus:
            lines.append("GPU models and configuration:")
            lines += [f"GPU {i}: {name}" for i, name in sorted(self.gpus.items())]
        if self.packages:
            lines += ["", "Versions of relevant libraries:"]
            lines += [f"[pip3] {name}=={version}" for name, version in self.packages.items()]
        return lines
