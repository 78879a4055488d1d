"""What a base image's reference states, from envlock/matrix/images.toml (sourced).

A repository the table does not list, or a tag its pattern does not match, states nothing:
every field stays None ("not stated"), never guessed from the name.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources
from typing import TypedDict, cast

from envlock.imageref import ImageReference, InvalidReference
from envlock.matrix import Version
from envlock.plan._toml import loads
from envlock.plan.model import BaseImage, Flavor, Span, Stated

_FLAVORS: dict[str, Flavor] = {"base": "base", "runtime": "runtime", "devel": "devel"}


class _RepositoryEntry(TypedDict, total=False):
    name: str
    aliases: list[str]
    kind: str
    # mypy: the hyphenated keys are read through .get below
    source: list[str]


class _CudaEntry(TypedDict):
    version: str
    cudnn: str
    os: list[str]
    source: list[str]


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageRepository:
    names: tuple[str, ...]  # fully qualified: docker.io/nvidia/cuda
    kind: str  # nvidia-cuda, pytorch
    pattern: re.Pattern[str]
    unnumbered_cudnn_major: int | None
    require_cuda: bool
    source: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class CudaImage:
    """An nvidia/cuda version a fix may name."""

    version: str  # "12.8.1"
    cudnn: str  # the tag word of its cuDNN images: "cudnn", "cudnn8"
    os: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class PytorchImage:
    """pytorch/pytorch tags published: each version with each CUDA, runtime and devel."""

    versions: tuple[str, ...]  # "2.7.0", "2.7.1"
    cuda: tuple[str, ...]  # "12.8"
    cudnn: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CondaBuilds:
    """The pytorch conda channel's builds: each version with each pytorch-cuda."""

    versions: tuple[str, ...]
    pytorch_cuda: tuple[str, ...]  # "12.1"


@dataclass(frozen=True, slots=True, kw_only=True)
class RequireClauses:
    """The driver branches nvidia/cuda images of CUDA min..max accept on these brands."""

    cuda_min: str
    cuda_max: str
    brands: tuple[str, ...]
    branches: tuple[int, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageTable:
    repositories: tuple[ImageRepository, ...]
    cuda_images: tuple[CudaImage, ...]
    require: tuple[RequireClauses, ...] = ()
    pytorch_images: tuple[PytorchImage, ...] = ()
    conda_builds: tuple[CondaBuilds, ...] = ()

    def repository(self, name: str) -> ImageRepository | None:
        return next((r for r in self.repositories if name in r.names), None)

    def pytorch_cudnn(self, version: str, cuda: str) -> int | None:
        """The cuDNN major of the published pytorch/pytorch image of torch `version` built
        with CUDA `cuda` ("12.8"); None where no such image was published."""
        row = next(
            (r for r in self.pytorch_images if version in r.versions and cuda in r.cuda), None
        )
        return row.cudnn if row is not None else None

    def conda_versions(self, cuda: str) -> list[str]:
        """The torch versions the pytorch conda channel published with pytorch-cuda=`cuda`."""
        return [v for r in self.conda_builds if cuda in r.pytorch_cuda for v in r.versions]

    def published(self, repository: str, tag: str) -> bool:
        """Whether `repository:tag` is one of the tags the tables list as published (the
        only ones a fix names): a pytorch/pytorch or nvidia/cuda tag, any flavor."""
        repo = self.repository(repository)
        m = repo.pattern.fullmatch(tag) if repo is not None else None
        if repo is None or m is None:
            return False
        cuda, cudnn = m["cuda"], m["cudnn"]
        if repo.kind == "pytorch":
            return cudnn == f"cudnn{self.pytorch_cudnn(m['torch'], cuda)}"
        image = next((c for c in self.cuda_images if c.version == cuda), None)
        return (
            image is not None
            and cudnn in (None, image.cudnn)
            and (m["os"] in image.os)
            and not (cudnn and m["flavor"] == "base")  # cuDNN comes in runtime and devel only
        )


@functools.cache
def image_table() -> ImageTable:
    """images.toml, read once (its sources are checked against sources.toml by a test)."""
    data = loads(resources.files("envlock.matrix").joinpath("images.toml").read_text("utf-8"))
    repos = []
    for entry in cast("list[dict[str, object]]", data["repository"]):
        e = cast("_RepositoryEntry", entry)
        major = entry.get("unnumbered-cudnn-major")
        repos.append(
            ImageRepository(
                names=(e["name"], *e.get("aliases", [])),
                kind=e["kind"],
                pattern=re.compile(str(entry["tag-pattern"]), re.ASCII),
                unnumbered_cudnn_major=major if isinstance(major, int) else None,
                require_cuda=entry.get("require-cuda") is True,
                source=tuple(e["source"]),
            )
        )
    cuda = [
        CudaImage(version=c["version"], cudnn=c["cudnn"], os=tuple(c["os"]))
        for c in cast("list[_CudaEntry]", data["nvidia-cuda"])
    ]
    require = [
        RequireClauses(
            cuda_min=str(r["cuda-min"]),
            cuda_max=str(r["cuda-max"]),
            brands=tuple(cast("list[str]", r["brands"])),
            branches=tuple(cast("list[int]", r["branches"])),
        )
        for r in cast("list[dict[str, object]]", data.get("nvidia-cuda-require", []))
    ]
    pytorch = [
        PytorchImage(
            versions=tuple(cast("list[str]", r["versions"])),
            cuda=tuple(cast("list[str]", r["cuda"])),
            cudnn=cast("int", r["cudnn"]),
        )
        for r in cast("list[dict[str, object]]", data.get("pytorch-image", []))
    ]
    conda = [
        CondaBuilds(
            versions=tuple(cast("list[str]", r["versions"])),
            pytorch_cuda=tuple(cast("list[str]", r["pytorch-cuda"])),
        )
        for r in cast("list[dict[str, object]]", data.get("conda-pytorch", []))
    ]
    return ImageTable(
        conda_builds=tuple(conda),
        repositories=tuple(repos),
        cuda_images=tuple(cuda),
        require=tuple(require),
        pytorch_images=tuple(pytorch),
    )


def base_image(reference: str, span: Span, platform: str | None = None) -> BaseImage:
    """A FROM's (or compose `image:`'s) reference and what its tag states."""
    stated_ref = Stated(reference, span)
    try:
        ref = ImageReference.parse(reference)
    except InvalidReference:
        return BaseImage(reference=stated_ref, platform=platform)
    repo = image_table().repository(ref.name)
    m = repo.pattern.fullmatch(ref.tag) if repo is not None and ref.tag else None
    if repo is None or m is None:
        return BaseImage(reference=stated_ref, platform=platform)
    groups = m.groupdict()
    cuda_full = groups.get("cuda")
    cuda = ".".join(cuda_full.split(".")[:2]) if cuda_full else None
    return BaseImage(
        reference=stated_ref,
        platform=platform,
        cuda=Stated(cuda, span) if cuda else None,
        full_cuda=cuda_full,
        cudnn_major=_cudnn(groups.get("cudnn"), repo, span),
        flavor=Stated(_FLAVORS[groups["flavor"]], span) if groups.get("flavor") else None,
        os=Stated(groups["os"], span) if groups.get("os") else None,
        torch=Stated(groups["torch"], span) if groups.get("torch") else None,
        known_from="tag",
    )


def _cudnn(word: str | None, repo: ImageRepository, span: Span) -> Stated[int] | None:
    if not word:
        return None
    digits = word.removeprefix("cudnn")
    if digits.isdigit():
        return Stated(int(digits), span)
    return Stated(repo.unnumbered_cudnn_major, span) if repo.unnumbered_cudnn_major else None


def require_cuda(base: BaseImage) -> str | None:
    """The NVIDIA_REQUIRE_CUDA the image sets (`cuda>=12.1`), where the table says it does."""
    if base.cuda is None:
        return None
    try:
        ref = ImageReference.parse(base.reference.value)
    except InvalidReference:
        return None
    table = image_table()
    repo = table.repository(ref.name)
    if repo is None or not repo.require_cuda:
        return None
    cuda = Version.parse(base.cuda.value)
    clauses = [f"cuda>={base.cuda.value}"]
    for row in table.require:
        if Version.parse(row.cuda_min) <= cuda <= Version.parse(row.cuda_max):
            clauses.extend(
                f"brand={brand},driver>={n},driver<{n + 1}"
                for n in row.branches
                for brand in row.brands
            )
    return " ".join(clauses)


def repository_kind(reference: str) -> str | None:
    """nvidia-cuda, pytorch, or None for a repository the table does not list."""
    try:
        ref = ImageReference.parse(reference)
    except InvalidReference:
        return None
    repo = image_table().repository(ref.name)
    return repo.kind if repo is not None else None
