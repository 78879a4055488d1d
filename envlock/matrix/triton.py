"""Triton releases and the CUDA of the ptxas each bundles (triton.toml): the driver its
kernels need, which is not torch's."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from envlock.matrix.loader import MatrixError, checked_source, read_documents, read_toml
from envlock.matrix.versions import Version

_KEYS = frozenset({"release", "read", "ptxas", "ptxas-blackwell", "blackwell-from", "source"})


@dataclass(frozen=True, kw_only=True, slots=True)
class TritonRelease:
    release: Version  # the series, major.minor
    read: tuple[Version, ...]  # the wheels whose assemblers were read
    ptxas: Version  # the CUDA release of the bundled ptxas
    ptxas_blackwell: Version | None = None  # the second assembler, for GPUs >= blackwell_from
    blackwell_from: Version | None = None
    source: tuple[str, ...] = ()

    def ptxas_for(self, capability: Version | None) -> Version:
        """The CUDA release of the assembler that builds kernels for a GPU of `capability`
        (unknown: the first assembler, the one every GPU below Blackwell gets)."""
        if (
            capability is not None
            and self.ptxas_blackwell is not None
            and self.blackwell_from is not None
            and capability.truncate(2) >= self.blackwell_from
        ):
            return self.ptxas_blackwell
        return self.ptxas


@dataclass(frozen=True, kw_only=True, slots=True)
class Triton:
    releases: tuple[TritonRelease, ...]
    min_capability: Version  # below it torch's inductor runs no Triton kernel

    def release(self, version: Version) -> TritonRelease | None:
        series = version.truncate(2)
        return next((r for r in self.releases if r.release == series), None)


def _optional(entry: dict[str, Any], key: str) -> Version | None:
    return Version.parse(str(entry[key])) if key in entry else None


def _row(entry: dict[str, Any], path: str, sources: set[str]) -> TritonRelease:
    extra = sorted(set(entry) - _KEYS)
    if extra:
        raise MatrixError(f"in '{path}': unknown key(s) {extra}")
    source = checked_source(entry, path, sources)
    try:
        row = TritonRelease(
            release=Version.parse(str(entry["release"])),
            read=tuple(Version.parse(str(v)) for v in entry.get("read", ())),
            ptxas=Version.parse(str(entry["ptxas"])),
            ptxas_blackwell=_optional(entry, "ptxas-blackwell"),
            blackwell_from=_optional(entry, "blackwell-from"),
            source=source,
        )
    except (KeyError, ValueError) as exc:
        raise MatrixError(f"in '{path}': {exc}") from None
    if (row.ptxas_blackwell is None) != (row.blackwell_from is None):
        raise MatrixError(f"in '{path}': ptxas-blackwell and blackwell-from go together")
    return row


def parse_triton(doc: dict[str, Any], sources: set[str]) -> Triton:
    entries = doc.get("triton")
    if not isinstance(entries, list) or not entries:
        raise MatrixError("triton.toml: no [[triton]] rows")
    gpus = doc.get("gpus")
    if not isinstance(gpus, dict):
        raise MatrixError("triton.toml: no [gpus] table")
    checked_source(gpus, "triton.toml:gpus", sources)
    try:
        floor = Version.parse(str(gpus["min-capability"]))
    except (KeyError, ValueError) as exc:
        raise MatrixError(f"in 'triton.toml:gpus': {exc}") from None
    rows = tuple(_row(e, f"triton.toml:triton[{i}]", sources) for i, e in enumerate(entries))
    return Triton(releases=rows, min_capability=floor)


@functools.cache
def load_triton() -> Triton:
    # parsed through the loader's cache, as the other matrix files are
    doc = read_toml("triton.toml")
    return parse_triton(doc, set(read_documents()["sources.toml"]["sources"]))
