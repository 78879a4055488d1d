"""Read the matrix TOML files shipped as package data into a Matrix (once per process)."""

from __future__ import annotations

import functools
import marshal
import os
import sys
import tempfile
from collections.abc import Collection, Mapping
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict, cast

from envlock import __version__
from envlock.errors import EnvlockError, ExitCode
from envlock.matrix.model import (
    ArchDriver,
    Capability,
    CudaRange,
    CudnnRange,
    GpuModel,
    Matrix,
    MinorFloor,
    ToolkitDriver,
    TorchRelease,
    TorchVariant,
)
from envlock.matrix.versions import Version

if TYPE_CHECKING:
    from importlib.abc import Traversable

FILES = ("sources.toml", "drivers.toml", "gpus.toml", "torch.toml", "cudnn.toml")
# every TOML file of the package (family.py reads family.toml and indexes.toml, triton.py
# triton.toml), parsed through one cache
CACHED = (*FILES, "family.toml", "triton.toml", "indexes.toml")


# The files as tomllib reads them: schemas/matrix.schema.json, as types (a test holds the
# keys equal). Which keys are required is the schema's to say (each file is validated
# against it in the tests), so every entry is total=False; a bad version or source here is
# a MatrixError naming its file and path.
class ToolkitEntry(TypedDict, total=False):
    cuda: str
    release: str
    linux: str
    windows: str
    source: list[str]


MinorFloorEntry = TypedDict(
    "MinorFloorEntry",
    {"cuda-major": int, "linux": str, "windows": str, "note": str, "source": list[str]},
    total=False,
)
CapabilityEntry = TypedDict(
    "CapabilityEntry",
    {
        "sm": str,
        "first-cuda": str,
        "first-cuda-or-earlier": bool,
        "last-cuda": str,
        "tegra": bool,
        "runs-sass-of": list[str],
        "note": str,
        "source": list[str],
    },
    total=False,
)


class GpuEntry(TypedDict, total=False):
    capability: str
    names: list[str]
    also: list[str]
    unverified: list[str]
    cpu: str
    note: str
    source: list[str]


VariantEntry = TypedDict(
    "VariantEntry",
    {
        "name": str,
        "cuda": str,
        "cudnn": str,
        "cudnn-pypi": str,
        "nccl": str,
        "arch-list": list[str],
        "unverified": list[str],
        "note": str,
        "source": list[str],
    },
    total=False,
)
TorchEntry = TypedDict(
    "TorchEntry",
    {
        "release": str,
        "python-min": str,
        "python-max": str,
        "requires-python": str,
        "default-variant": str,
        "variant": list[VariantEntry],
        "unverified": list[str],
        "note": str,
        "source": list[str],
    },
    total=False,
)


class CudaRangeEntry(TypedDict, total=False):
    min: str
    max: str


CudnnEntry = TypedDict(
    "CudnnEntry",
    {
        "min": str,
        "max": str,
        "cuda": list[CudaRangeEntry],
        "capability-min": str,
        "capability-max": str,
        "note": str,
        "source": list[str],
    },
    total=False,
)


class SourcesDoc(TypedDict):
    sources: dict[str, str]


ArchitectureEntry = TypedDict(
    "ArchitectureEntry",
    {
        "name": str,
        "capabilities": list[str],
        "min-branch": int,
        "last-branch": int,
        "note": str,
        "source": list[str],
    },
    total=False,
)
DriversDoc = TypedDict(
    "DriversDoc",
    {
        "toolkit": list[ToolkitEntry],
        "minor-floor": list[MinorFloorEntry],
        "architecture": list[ArchitectureEntry],
    },
)


class GpusDoc(TypedDict):
    capability: list[CapabilityEntry]
    gpu: list[GpuEntry]


class TorchDoc(TypedDict):
    torch: list[TorchEntry]


class CudnnDoc(TypedDict):
    cudnn: list[CudnnEntry]


MatrixDocuments = TypedDict(
    "MatrixDocuments",
    {
        "sources.toml": SourcesDoc,
        "drivers.toml": DriversDoc,
        "gpus.toml": GpusDoc,
        "torch.toml": TorchDoc,
        "cudnn.toml": CudnnDoc,
    },
)
# an entry as the getters that take any of them read it
_Entry = Mapping[str, object]


class MatrixError(EnvlockError):
    """The packaged matrix data is broken: a bug in envlock, named by file and path."""

    exit_code = ExitCode.INTERNAL


def read_documents() -> MatrixDocuments:
    """The raw TOML of every matrix file, by file name (what the JSON Schema describes);
    new objects on every call (a caller may change them)."""
    docs = marshal.loads(_parsed())
    # the shape is the schema's (tests/matrix/test_matrix_data.py validates each file)
    return cast(MatrixDocuments, {name: docs[name] for name in FILES})


def read_toml(name: str) -> dict[str, object]:
    """One of CACHED, parsed (new objects on every call)."""
    doc: dict[str, object] = marshal.loads(_parsed())[name]
    return doc


# The parsed files are kept, marshalled, in the cache directory: parsing the TOML was
# most of the doctor's matrix time. The entry is keyed by envlock's version, the
# interpreter (marshal's format is its own) and every file's path, size and mtime, so an
# edited or reinstalled file is parsed again; an entry that cannot be read, or a
# directory that cannot be written, only costs the parse.
def _cache_file() -> Path:
    # livecache.cache_dir's directory (that module is above this layer)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    root = Path(os.environ.get("ENVLOCK_CACHE_DIR") or Path(base) / "envlock")
    tag = f"{__version__}-{sys.implementation.cache_tag}-m{marshal.version}"
    return root / f"matrix-{tag}.marshal"


def _stamp(root: object) -> tuple[tuple[str, int, int], ...] | None:
    """Each file's path, size and mtime; None where the package is not plain files."""
    if not isinstance(root, Path):
        return None
    stamp = []
    for name in CACHED:
        try:
            st = os.stat(root / name)
        except OSError:
            return None
        stamp.append((str(root / name), st.st_size, st.st_mtime_ns))
    return tuple(stamp)


@functools.cache
def _parsed() -> bytes:
    """Every CACHED file parsed, as marshal bytes: from the cache when its key matches."""
    root = resources.files("envlock.matrix")
    stamp = _stamp(root)
    if stamp is not None:
        hit = _cached(stamp)
        if hit is not None:
            return hit
    docs = {name: _parse(root, name) for name in CACHED}
    try:
        data = marshal.dumps(docs)
    except ValueError as exc:  # a TOML date or time: no matrix file has one
        raise MatrixError(f"matrix files: a value the cache cannot hold: {exc}") from None
    if stamp is not None:
        _store(stamp, data)
    return data


def _parse(root: Traversable, name: str) -> dict[str, object]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib
    try:
        doc: dict[str, object] = tomllib.loads(root.joinpath(name).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise MatrixError(f"matrix file {name}: {exc}") from None
    return doc


def _cached(stamp: tuple[tuple[str, int, int], ...]) -> bytes | None:
    try:
        entry = marshal.loads(_cache_file().read_bytes())
        key, data = entry
        docs = marshal.loads(data)
    except (OSError, EOFError, ValueError, TypeError):
        return None
    ok = (
        key == stamp
        and isinstance(docs, dict)
        and all(isinstance(docs.get(n), dict) for n in CACHED)
    )
    return data if ok else None


def _store(stamp: tuple[tuple[str, int, int], ...], data: bytes) -> None:
    """Written to a temporary file and renamed: a reader sees a whole entry or none."""
    path = _cache_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".matrix-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(marshal.dumps((stamp, data)))
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError:
        pass  # no cache this time: the parse is the fallback


@functools.cache
def load_matrix() -> Matrix:
    return build_matrix(read_documents())


def build_matrix(docs: MatrixDocuments) -> Matrix:
    sources = docs["sources.toml"]["sources"]
    r = _Reader(set(sources))
    drivers, gpus = docs["drivers.toml"], docs["gpus.toml"]
    return Matrix(
        sources=dict(sources),
        toolkits=tuple(
            r.toolkit(e, f"drivers.toml:toolkit[{i}]") for i, e in enumerate(drivers["toolkit"])
        ),
        minor_floors=tuple(
            r.floor(e, f"drivers.toml:minor-floor[{i}]")
            for i, e in enumerate(drivers["minor-floor"])
        ),
        capabilities=tuple(
            r.capability(e, f"gpus.toml:capability[{i}]") for i, e in enumerate(gpus["capability"])
        ),
        gpus=tuple(
            g for i, e in enumerate(gpus["gpu"]) for g in r.gpu_models(e, f"gpus.toml:gpu[{i}]")
        ),
        torch=tuple(
            r.torch(e, f"torch.toml:torch[{i}]") for i, e in enumerate(docs["torch.toml"]["torch"])
        ),
        cudnn=tuple(
            r.cudnn(e, f"cudnn.toml:cudnn[{i}]") for i, e in enumerate(docs["cudnn.toml"]["cudnn"])
        ),
        architectures=tuple(
            r.architecture(e, f"drivers.toml:architecture[{i}]")
            for i, e in enumerate(drivers.get("architecture", []))
        ),
    )


class _Reader:
    """Typed getters that name the offending entry, pip-audit/packaging style."""

    def __init__(self, source_keys: set[str]) -> None:
        self.source_keys = source_keys

    def version(self, e: _Entry, key: str, path: str) -> Version:
        value = e.get(key)
        if not isinstance(value, str):
            raise MatrixError(f"in '{path}.{key}': expected a version string, got {value!r}")
        try:
            return Version.parse(value)
        except ValueError:
            raise MatrixError(f"in '{path}.{key}': not a version: {value!r}") from None

    def opt_version(self, e: _Entry, key: str, path: str) -> Version | None:
        return self.version(e, key, path) if key in e else None

    def source(self, e: _Entry, path: str) -> tuple[str, ...]:
        return checked_source(e, path, self.source_keys)

    def toolkit(self, e: ToolkitEntry, path: str) -> ToolkitDriver:
        return ToolkitDriver(
            cuda=self.version(e, "cuda", path),
            release=str(e["release"]),
            linux=self.version(e, "linux", path),
            windows=self.opt_version(e, "windows", path),
            source=self.source(e, path),
        )

    def floor(self, e: MinorFloorEntry, path: str) -> MinorFloor:
        return MinorFloor(
            cuda_major=int(e["cuda-major"]),
            linux=self.version(e, "linux", path),
            windows=self.opt_version(e, "windows", path),
            source=self.source(e, path),
            note=e.get("note"),
        )

    def architecture(self, e: ArchitectureEntry, path: str) -> ArchDriver:
        caps = e.get("capabilities", [])
        if not caps:
            raise MatrixError(f"in '{path}.capabilities': an architecture names its SMs")
        return ArchDriver(
            name=str(e["name"]),
            capabilities=tuple(self.version({"sm": c}, "sm", f"{path}.capabilities") for c in caps),
            min_branch=e.get("min-branch"),
            last_branch=e.get("last-branch"),
            source=self.source(e, path),
            note=e.get("note"),
        )

    def capability(self, e: CapabilityEntry, path: str) -> Capability:
        return Capability(
            sm=self.version(e, "sm", path),
            first_cuda=self.version(e, "first-cuda", path),
            last_cuda=self.opt_version(e, "last-cuda", path),
            tegra=bool(e.get("tegra", False)),
            runs_sass_of=tuple(Version.parse(v) for v in e.get("runs-sass-of", [])),
            source=self.source(e, path),
            note=e.get("note"),
        )

    def gpu_models(self, e: GpuEntry, path: str) -> list[GpuModel]:
        cc = self.version(e, "capability", path)
        src = self.source(e, path)
        unverified = "capability" in e.get("unverified", [])
        return [
            GpuModel(
                name=n,
                capability=cc,
                source=src,
                unverified=unverified,
                cpu=str(e.get("cpu", "x86_64")),
                also=tuple(
                    self.version({"sm": c}, "sm", f"{path}.also") for c in e.get("also", [])
                ),
            )
            for n in e["names"]
        ]

    def torch(self, e: TorchEntry, path: str) -> TorchRelease:
        variants = tuple(
            self.variant(v, f"{path}.variant[{i}]") for i, v in enumerate(e.get("variant", []))
        )
        release = TorchRelease(
            release=self.version(e, "release", path),
            python_min=self.version(e, "python-min", path),
            python_max=self.version(e, "python-max", path),
            requires_python=e.get("requires-python"),
            default_variant=str(e["default-variant"]),
            variants=variants,
            unverified=tuple(e.get("unverified", [])),
            source=self.source(e, path),
            note=e.get("note"),
        )
        if release.variant(release.default_variant) is None:
            raise MatrixError(f"in '{path}.default-variant': {release.default_variant} not listed")
        return release

    def variant(self, e: VariantEntry, path: str) -> TorchVariant:
        arch = e.get("arch-list")
        if arch is not None:
            for item in arch:  # fail here, not in a check, on a malformed item
                try:
                    Version.parse(str(item).upper().removesuffix("+PTX"))
                except ValueError:
                    raise MatrixError(f"in '{path}.arch-list': bad item {item!r}") from None
        return TorchVariant(
            name=str(e["name"]),
            cuda=self.version(e, "cuda", path),
            cudnn=self.opt_version(e, "cudnn", path),
            cudnn_pypi=self.opt_version(e, "cudnn-pypi", path),
            nccl=self.opt_version(e, "nccl", path),
            arch_list=tuple(arch) if arch is not None else None,
            unverified=tuple(e.get("unverified", [])),
            source=self.source(e, path),
            note=e.get("note"),
        )

    def cudnn(self, e: CudnnEntry, path: str) -> CudnnRange:
        return CudnnRange(
            min=self.version(e, "min", path),
            max=self.opt_version(e, "max", path),
            cuda=tuple(
                CudaRange(
                    min=self.version(c, "min", f"{path}.cuda[{i}]"),
                    max=self.opt_version(c, "max", f"{path}.cuda[{i}]"),
                )
                for i, c in enumerate(e["cuda"])
            ),
            capability_min=self.opt_version(e, "capability-min", path),
            capability_max=self.opt_version(e, "capability-max", path),
            source=self.source(e, path),
            note=e.get("note"),
        )


def checked_source(
    entry: Mapping[str, object], path: str, keys: Collection[str]
) -> tuple[str, ...]:
    """An entry's non-empty `source` list, each key one of sources.toml's (every matrix file)."""
    value = entry.get("source")
    if not isinstance(value, list) or not value:
        raise MatrixError(f"in '{path}.source': every entry needs a non-empty source list")
    unknown = [s for s in value if s not in keys]
    if unknown:
        raise MatrixError(f"in '{path}.source': unknown source key(s) {unknown}")
    return tuple(value)
