"""The torch family's release pairings (family.toml) and the pip line that repairs a mismatch."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from envlock.matrix.advice import INDEX_URL
from envlock.matrix.loader import MatrixError, checked_source, read_documents, read_toml
from envlock.matrix.versions import Version

# The distributions released in lockstep with torch, and what a row may name.
MEMBERS = ("torchvision", "torchaudio", "torchtext", "triton")
# The members whose pairing the table holds (triton is left to torch's own pin).
PAIRED = ("torchvision", "torchaudio", "torchtext")
# Distributions whose requirements on these count as family requirements.
FAMILY = frozenset({"torch", "torchvision", "torchaudio", "torchtext", "triton", "pytorch-triton"})


@dataclass(frozen=True, kw_only=True, slots=True)
class FamilyRow:
    torch: Version  # major.minor
    members: dict[str, Version]  # member -> its release series (major.minor)
    unverified: tuple[str, ...] = ()
    source: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class Family:
    rows: tuple[FamilyRow, ...]
    # member -> the first series built against torch's stable ABI: such a member of series
    # S runs on torch S and every later torch (torchaudio 2.11, family.toml [stable_abi])
    stable_abi: dict[str, Version] = field(default_factory=dict)
    # member -> the first series with a compiled extension: an earlier series is pure
    # Python, linked to no torch, and goes with any torch (torchvision < 0.3, [pure_python])
    pure_python: dict[str, Version] = field(default_factory=dict)

    def pairs(self, member: str, have: Version, torch: Version) -> bool:
        """Whether `member` at version `have` goes with `torch`: the series of torch's row,
        a pure-Python series, or a stable-ABI series no newer than torch."""
        row = self.row_for_torch(torch)
        want = row.members.get(member) if row else None
        if want is None or have.truncate(2) == want:
            return True
        compiled_from = self.pure_python.get(member)
        if compiled_from is not None and have.truncate(2) < compiled_from:
            return True
        since = self.stable_abi.get(member)
        return since is not None and since <= have.truncate(2) <= torch.truncate(2)

    def row_for_torch(self, torch: Version) -> FamilyRow | None:
        series = torch.truncate(2)
        return next((r for r in self.rows if r.torch == series), None)

    def torch_for(self, member: str, version: Version) -> FamilyRow | None:
        """The row whose `member` series is that of `version`."""
        series = version.truncate(2)
        return next((r for r in self.rows if r.members.get(member) == series), None)


def parse_family(doc: dict[str, Any], sources: set[str]) -> Family:
    rows: list[FamilyRow] = []
    entries = doc.get("family")
    if not isinstance(entries, list) or not entries:
        raise MatrixError("family.toml: no [[family]] rows")
    for i, e in enumerate(entries):
        path = f"family.toml:family[{i}]"
        src = checked_source(e, path, sources)
        extra = sorted(set(e) - {"torch", "source", "unverified", *MEMBERS})
        if extra:
            raise MatrixError(f"in '{path}': unknown key(s) {extra}")
        try:
            torch = Version.parse(str(e["torch"]))
            members = {m: Version.parse(str(e[m])) for m in MEMBERS if m in e}
        except (KeyError, ValueError) as exc:
            raise MatrixError(f"in '{path}': {exc}") from None
        unverified = tuple(e.get("unverified", ()))
        if not set(unverified) <= set(members):
            raise MatrixError(f"in '{path}.unverified': names a member the row does not give")
        rows.append(
            FamilyRow(torch=torch, members=members, unverified=unverified, source=tuple(src))
        )
    return Family(
        rows=tuple(rows),
        stable_abi=_member_series(doc, "stable_abi", "since", sources),
        pure_python=_member_series(doc, "pure_python", "before", sources),
    )


def _member_series(
    doc: dict[str, Any], name: str, key: str, sources: set[str]
) -> dict[str, Version]:
    """A [name] table of `member = { <key> = "series", source = [...] }` entries."""
    table = doc.get(name, {})
    if not isinstance(table, dict):
        raise MatrixError(f"family.toml: [{name}] must be a table")
    out: dict[str, Version] = {}
    for member, entry in table.items():
        path = f"family.toml:{name}.{member}"
        if member not in MEMBERS or not isinstance(entry, dict):
            raise MatrixError(f"in '{path}': not a family member's table")
        src = entry.get("source")
        if not isinstance(src, list) or not src or not set(src) <= sources:
            raise MatrixError(f"in '{path}.source': needs known source keys")
        try:
            out[member] = Version.parse(str(entry[key])).truncate(2)
        except (KeyError, ValueError) as exc:
            raise MatrixError(f"in '{path}': {exc}") from None
    return out


@functools.cache
def load_family() -> Family:
    # parsed through the loader's cache, as the other matrix files are
    doc = read_toml("family.toml")
    return parse_family(doc, set(read_documents()["sources.toml"]["sources"]))


def index_for(local_tag: str | None) -> str | None:
    """download.pytorch.org's index for a local tag ("cu130", "cpu", "rocm6.4"); None for a
    wheel from PyPI itself (no local tag) or a tag that names no index."""
    if not local_tag:
        return None
    tag = local_tag.lower()
    if tag == "cpu" or tag.startswith(("cu", "rocm", "xpu")):
        return INDEX_URL + tag
    return None


def pip_line(pins: dict[str, Version], local_tag: str | None) -> str:
    """pip install "torchvision==0.29.*" ... --index-url <torch's index>."""
    specs = " ".join(f'"{name}=={series.truncate(2)}.*"' for name, series in pins.items())
    index = index_for(local_tag)
    return f"pip install {specs}" + (f" --index-url {index}" if index else "")
