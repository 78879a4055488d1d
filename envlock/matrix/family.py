"""The torch family's release pairings (family.toml) and the pip line that repairs a mismatch."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from envlock.matrix.advice import INDEX_URL
from envlock.matrix.loader import (
    MatrixError,
    checked_source,
    load_matrix,
    read_documents,
    read_toml,
)
from envlock.matrix.model import Matrix
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


# pytorch.org's pip option of a row (indexes.toml `form`) -> how it reads in a pip line
_OPTION = {"index-url": "--index-url", "extra-index-url": "--extra-index-url", "find-links": "-f"}


@dataclass(frozen=True, kw_only=True, slots=True)
class IndexRow:
    """indexes.toml's row: the releases (exact X.Y.Z, or one X.Y series) and their builds."""

    torch: tuple[tuple[int, ...], ...]
    form: str  # a key of _OPTION
    base: str  # the index base, or the find-links page ("{tag}": the build's own page)
    rocm: tuple[str, ...] | None  # None: the release's ROCm indexes are not recorded
    tags: tuple[str, ...] | None = None  # the row's whole set, where the page names it
    source: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class WheelIndex:
    """Where pytorch.org's install command for one (release, tag) build points pip."""

    form: str
    url: str

    @property
    def option(self) -> str:
        return f"{_OPTION[self.form]} {self.url}"


@dataclass(frozen=True, kw_only=True, slots=True)
class PageLine:
    """indexes.toml's [[release]]: pytorch.org's own wheel line for one release, its exact
    pins ("{tag}": the build's local tag), the build PyPI carries untagged (`pypi`), and
    `kind`: "" (a pip line), "download" (no pip line: the wheels from the build's page) or
    "lts" (untagged pins from the LTS index)."""

    torch: Version  # the exact release
    pins: tuple[str, ...]  # torch's first
    pypi: str | None = None
    kind: str = ""

    def requirements(self, tag: str, *, untagged: bool = False) -> dict[str, str]:
        """name -> the page's requirement for build `tag` ("torchvision==0.10.1+cu111");
        untagged (PyPI's build, the LTS index, a download page's files) without the tag."""
        plain = untagged or self.kind != "" or tag == self.pypi
        reqs = (p.replace("+{tag}", "" if plain else f"+{tag}") for p in self.pins)
        return {r.partition("==")[0]: r for r in reqs}


@dataclass(frozen=True, kw_only=True, slots=True)
class PageRoad:
    """A series road (release X.Y, build tag) as pytorch.org's page installs it: the newest
    release of the series with that build, and where its wheels are."""

    line: PageLine
    index: WheelIndex | None  # None: PyPI's own build, no option


@dataclass(frozen=True, kw_only=True, slots=True)
class Indexes:
    rows: tuple[IndexRow, ...]
    cuda: dict[tuple[int, ...], tuple[str, ...]]  # series -> torch.toml's CUDA variants
    nightly: tuple[str, ...]  # the tags of the nightly indexes published today
    releases: tuple[PageLine, ...] = ()  # the page's exact-pin lines ([[release]])

    def _rows_for(self, torch: Version) -> list[IndexRow]:
        """The row of an exact release; for a series, its row or every patch's."""
        parts = torch.parts
        exact = [r for r in self.rows if parts[:3] in r.torch] if len(parts) >= 3 else []
        return exact or [r for r in self.rows if any(t[:2] == parts[:2] for t in r.torch)]

    def _holds(self, row: IndexRow, series: tuple[int, ...], tag: str) -> bool:
        if row.tags is not None:
            return tag in row.tags
        return tag == "cpu" or tag in (row.rocm or ()) or tag in self.cuda.get(series, ())

    def recorded(self, torch: Version) -> bool:
        """Whether the table holds every build pytorch.org names for this release (its
        ROCm ones too): a tag it lacks is then no download.pytorch.org build."""
        rows = self._rows_for(torch)
        return bool(rows) and all(r.rocm is not None for r in rows)

    def index(self, torch: Version, tag: str) -> WheelIndex | None:
        """pytorch.org's index (or find-links page) for torch `torch`'s build `tag`; None
        where the table holds no such pair. For a series, the newest of its releases that
        has the build (pip's `torch==X.Y.*` takes the newest the index holds)."""
        tag = tag.lower()
        rows = [r for r in self._rows_for(torch) if self._holds(r, torch.parts[:2], tag)]
        if not rows:
            return None
        row = max(rows, key=lambda r: max(r.torch))
        if row.form == "find-links":
            return WheelIndex(form=row.form, url=row.base.replace("{tag}", tag))
        return WheelIndex(form=row.form, url=row.base + tag)

    def page_road(self, series: Version, tag: str) -> PageRoad | None:
        """The road to torch `series` built as `tag` where pytorch.org's page installs the
        series with exact pins: its newest release (the LTS aside) whose build `tag` the
        table holds; None for a series the page installs by index (`torch==X.Y.*`)."""
        tag = tag.lower()
        held = [
            (line, index)
            for line in self.releases
            if line.torch.truncate(2) == series.truncate(2) and line.kind != "lts"
            for index in [self.index(line.torch, tag)]
            if index is not None and (tag == "cpu" or tag in self.cuda.get(series.parts[:2], ()))
        ]
        if not held:
            return None
        line, index = max(held, key=lambda pair: pair[0].torch)
        return PageRoad(line=line, index=None if line.pypi == tag else index)

    def nightly_index(self, tag: str) -> str | None:
        return f"{INDEX_URL}nightly/{tag}" if tag.lower() in self.nightly else None


def parse_indexes(doc: dict[str, Any], sources: set[str], matrix: Matrix) -> Indexes:
    rows = []
    for i, e in enumerate(doc.get("index", [])):
        path = f"indexes.toml:index[{i}]"
        src = checked_source(e, path, sources)
        form = e.get("form")
        if form not in _OPTION or (form == "find-links") != ("find-links" in e):
            raise MatrixError(f"in '{path}.form': {form!r} (find-links rows name their page)")
        try:
            torch = tuple(Version.parse(str(t)).parts for t in e["torch"])
        except (KeyError, ValueError) as exc:
            raise MatrixError(f"in '{path}.torch': {exc}") from None
        base = e["find-links"] if form == "find-links" else e.get("index", INDEX_URL)
        tags = e.get("tags")
        rows.append(
            IndexRow(
                torch=torch,
                form=form,
                base=str(base),
                rocm=tuple(e["rocm"]) if "rocm" in e else None,
                tags=tuple(tags) if tags is not None else None,
                source=tuple(src),
            )
        )
    nightly = doc.get("nightly", {})
    checked_source(nightly, "indexes.toml:nightly", sources)
    cuda = {r.release.parts[:2]: tuple(v.name for v in r.variants) for r in matrix.torch}
    return Indexes(
        rows=tuple(rows),
        cuda=cuda,
        nightly=tuple(nightly.get("tags", ())),
        releases=tuple(_page_line(e, i, sources) for i, e in enumerate(doc.get("release", []))),
    )


def _page_line(e: dict[str, Any], i: int, sources: set[str]) -> PageLine:
    """One [[release]]: its pins must be requirements pip reads, torch's first and of the
    row's release, each tagged "+{tag}" or not at all."""
    from packaging.requirements import InvalidRequirement, Requirement

    path = f"indexes.toml:release[{i}]"
    checked_source(e, path, sources)
    extra = sorted(set(e) - {"torch", "pins", "pypi", "kind", "source"})
    if extra or e.get("kind", "") not in ("", "download", "lts"):
        raise MatrixError(f"in '{path}': unknown key(s) or kind {extra or e.get('kind')}")
    try:
        torch = Version.parse(str(e["torch"]))
        pins = tuple(str(p) for p in e["pins"])
        for pin in pins:
            Requirement(pin.replace("+{tag}", "+cpu"))
    except (KeyError, TypeError, ValueError, InvalidRequirement) as exc:
        raise MatrixError(f"in '{path}': {exc}") from None
    if not pins or pins[0].replace("+{tag}", "") != f"torch=={torch}":
        raise MatrixError(f"in '{path}.pins': the first pin is torch=={torch}")
    pypi = e.get("pypi")
    return PageLine(
        torch=torch, pins=pins, pypi=str(pypi) if pypi else None, kind=str(e.get("kind", ""))
    )


@functools.cache
def load_indexes() -> Indexes:
    doc = read_toml("indexes.toml")
    sources = set(read_documents()["sources.toml"]["sources"])
    return parse_indexes(doc, sources, load_matrix())


def index_for(torch: Version | None, local_tag: str | None) -> WheelIndex | None:
    """download.pytorch.org's index for torch `torch` (a release or a series) built as
    `local_tag` ("cu130", "cpu", "rocm6.4"); None for a wheel from PyPI itself (no local
    tag) and for a pair pytorch.org's install commands do not name (AMD's +rocm6.2.3)."""
    if not local_tag or torch is None:
        return None
    return load_indexes().index(torch, local_tag)


def elsewhere(names: str, torch: str, tag: str) -> str:
    """The fix where no index pytorch.org names holds torch's build: the members from the
    place torch came from, built for it. Where the table holds all of the release's builds
    (`Indexes.recorded`), the tag is no download.pytorch.org build at all."""
    release = Version.of(torch.partition("+")[0])
    if release is not None and load_indexes().recorded(release):
        amd = (
            " (AMD's repo.radeon.com ROCm builds carry such tags)" if tag.startswith("rocm") else ""
        )
        where = f"torch {torch} is not a download.pytorch.org build{amd}"
    else:
        where = f"envlock records no download.pytorch.org index for torch {torch}"
    return f"{where}: install {names} built for torch {torch} from the same place as torch"


def pip_line(
    pins: dict[str, Version], local_tag: str | None, torch: Version | str | None = None
) -> str:
    """pip install "torchvision==0.29.*" ... and the option pytorch.org gives for torch's
    build (`torch`: the installed torch, else the pinned one, else the members' row's); an
    unlisted build names no URL (`elsewhere`); beside an installed release pytorch.org's page
    pins exactly (1.2.0-1.10.1), the page's own pins for the members (_page_command), else
    a find-links release its page and tag."""
    specs = " ".join(f'"{name}=={series.truncate(2)}.*"' for name, series in pins.items())
    if not local_tag:
        return f"pip install {specs}"
    release = _release(pins, torch)
    index = index_for(release, local_tag)
    shown = str(torch) if torch is not None else f"{release}+{local_tag}"
    if index is None:
        return elsewhere(specs, shown, local_tag)
    if index.form == "find-links":
        exact = _page_command(pins, local_tag, torch, index)
        if exact is not None:
            return exact
        return (
            f"install {specs} as their +{local_tag} builds from {index.url} (pytorch.org "
            f"installs torch {shown}'s builds with -f {index.url}, each requirement pinned "
            f"with its +{local_tag} tag)"
        )
    return f"pip install {specs} {index.option}"


def _page_command(
    pins: dict[str, Version], tag: str, torch: Version | str | None, index: WheelIndex
) -> str | None:
    """pip install of the members at the exact pins pytorch.org's page gives them beside the
    installed torch release `torch` ("1.9.0+cu102": "torchvision==0.10.0+cu102"), each with
    the build's tag (a member with CUDA/CPU builds the page pins untagged, torchaudio
    0.10.1, too: untagged, pip takes the highest local label on the -f page); untagged
    with no option where PyPI carries the build (torch 1.2.0's cu100). None where the page's line for that
    release does not name every member, or `torch` is no installed release."""
    release = Version.of(torch.partition("+")[0]) if isinstance(torch, str) else None
    lines = load_indexes().releases
    line = next((x for x in lines if x.torch == release and x.kind == ""), None)
    if line is None or not pins:
        return None
    reqs = line.requirements(tag)
    if not set(pins) <= set(reqs) - {"torch"}:
        return None
    pypi = tag == line.pypi
    specs = [reqs[m] if pypi or "+" in reqs[m] else f"{reqs[m]}+{tag}" for m in pins]
    option = "" if pypi else f" {index.option}"
    return "pip install " + " ".join(f'"{r}"' for r in specs) + option


def _release(pins: dict[str, Version], torch: Version | str | None) -> Version | None:
    if isinstance(torch, str):
        return Version.of(torch.partition("+")[0])
    if torch is not None:
        return torch
    if "torch" in pins:
        return pins["torch"]
    family = load_family()
    rows = [family.torch_for(m, s) for m, s in pins.items()]
    return next((r.torch for r in rows if r is not None), None)
