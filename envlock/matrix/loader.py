"""Read the matrix TOML files shipped as package data into a Matrix (once per process)."""

from __future__ import annotations

import functools
import sys
from importlib import resources
from typing import Any

from envlock.errors import EnvlockError, ExitCode
from envlock.matrix.model import (
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

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

FILES = ("sources.toml", "drivers.toml", "gpus.toml", "torch.toml", "cudnn.toml")


class MatrixError(EnvlockError):
    """The packaged matrix data is broken: a bug in envlock, named by file and path."""

    exit_code = ExitCode.INTERNAL


def read_documents() -> dict[str, dict[str, Any]]:
    """The raw TOML of every matrix file, by file name (what the JSON Schema describes)."""
    root = resources.files("envlock.matrix")
    out: dict[str, dict[str, Any]] = {}
    for name in FILES:
        try:
            out[name] = tomllib.loads(root.joinpath(name).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise MatrixError(f"matrix file {name}: {exc}") from None
    return out


@functools.cache
def load_matrix() -> Matrix:
    return build_matrix(read_documents())


def build_matrix(docs: dict[str, dict[str, Any]]) -> Matrix:
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
    )


class _Reader:
    """Typed getters that name the offending entry, pip-audit/packaging style."""

    def __init__(self, source_keys: set[str]) -> None:
        self.source_keys = source_keys

    def version(self, e: dict[str, Any], key: str, path: str) -> Version:
        value = e.get(key)
        if not isinstance(value, str):
            raise MatrixError(f"in '{path}.{key}': expected a version string, got {value!r}")
        try:
            return Version.parse(value)
        except ValueError:
            raise MatrixError(f"in '{path}.{key}': not a version: {value!r}") from None

    def opt_version(self, e: dict[str, Any], key: str, path: str) -> Version | None:
        return self.version(e, key, path) if key in e else None

    def source(self, e: dict[str, Any], path: str) -> tuple[str, ...]:
        value = e.get("source")
        if not isinstance(value, list) or not value:
            raise MatrixError(f"in '{path}.source': every entry needs a non-empty source list")
        unknown = [s for s in value if s not in self.source_keys]
        if unknown:
            raise MatrixError(f"in '{path}.source': unknown source key(s) {unknown}")
        return tuple(value)

    def toolkit(self, e: dict[str, Any], path: str) -> ToolkitDriver:
        return ToolkitDriver(
            cuda=self.version(e, "cuda", path),
            release=str(e["release"]),
            linux=self.version(e, "linux", path),
            windows=self.opt_version(e, "windows", path),
            source=self.source(e, path),
        )

    def floor(self, e: dict[str, Any], path: str) -> MinorFloor:
        return MinorFloor(
            cuda_major=int(e["cuda-major"]),
            linux=self.version(e, "linux", path),
            windows=self.opt_version(e, "windows", path),
            source=self.source(e, path),
            note=e.get("note"),
        )

    def capability(self, e: dict[str, Any], path: str) -> Capability:
        return Capability(
            sm=self.version(e, "sm", path),
            first_cuda=self.version(e, "first-cuda", path),
            last_cuda=self.opt_version(e, "last-cuda", path),
            tegra=bool(e.get("tegra", False)),
            runs_sass_of=tuple(Version.parse(v) for v in e.get("runs-sass-of", [])),
            source=self.source(e, path),
            note=e.get("note"),
        )

    def gpu_models(self, e: dict[str, Any], path: str) -> list[GpuModel]:
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
            )
            for n in e["names"]
        ]

    def torch(self, e: dict[str, Any], path: str) -> TorchRelease:
        variants = tuple(
            self.variant(v, f"{path}.variant[{i}]") for i, v in enumerate(e.get("variant", []))
        )
        release = TorchRelease(
            release=self.version(e, "release", path),
            python_min=self.version(e, "python-min", path),
            python_max=self.version(e, "python-max", path),
            requires_python=str(e["requires-python"]),
            default_variant=str(e["default-variant"]),
            variants=variants,
            source=self.source(e, path),
            note=e.get("note"),
        )
        if release.variant(release.default_variant) is None:
            raise MatrixError(f"in '{path}.default-variant': {release.default_variant} not listed")
        return release

    def variant(self, e: dict[str, Any], path: str) -> TorchVariant:
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

    def cudnn(self, e: dict[str, Any], path: str) -> CudnnRange:
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
