"""Where a torch build comes from, read from its version and from conda's build strings.

torch's version names its origin: `2.14.1+cu130` a download.pytorch.org wheel,
`2.3.0a0+40ec155e58.nv24.03` NVIDIA's (NGC containers), `2.0.0+nv23.05` NVIDIA's JetPack
wheel, `2.3.0a0+git2e4abc8` or `1.7.0a0+9ddd3df` a source build, `2.12.0+rocm7.2` the
ROCm wheel; a plain `2.7.0` is PyPI's (or conda's, whose build string then says which:
`py3.10_cuda11.8_cudnn8.7.0_0` is the pytorch channel's CUDA 11.8 build, `py3.9_cpu_0`
its CPU build, `cuda118_py310h...` conda-forge's). A torchvision, torchaudio or torchtext
released on PyPI is built against the released torch of its row: beside a vendor or
source torch (another ABI, another build) it is a mismatch even when the versions pair.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The kinds of origin, for the checks and the evidence.
PYTORCH_INDEX = "download.pytorch.org"
PYPI = "PyPI"
NVIDIA = "NVIDIA"
SOURCE = "source"
NIGHTLY = "nightly"

_VARIANT = re.compile(r"(cpu|cu\d{2,3}|rocm\d+(?:\.\d+)*|xpu)(?:\.|$)")
# NVIDIA's release tag, "nv24.03", at the end of the local part
_NV = re.compile(r"(?:^|\.)nv(\d{2})\.(\d{2})$")
# a source build's local part: "git2e4abc8" or a bare abbreviated hash "9ddd3df"
_HASH = re.compile(r"(?:git)?[0-9a-f]{7,40}$")
_PRE = re.compile(r"^\d+(?:\.\d+)*(a|b|rc)\d*$")
_DEV = re.compile(r"\.dev\d+$")


@dataclass(frozen=True, slots=True)
class Origin:
    kind: str  # one of the names above
    label: str  # said in a message: "NVIDIA's build (release 24.03)"
    variant: str | None = None  # the index's variant tag (cu130, cpu, rocm6.2), if named


def torch_origin(version: str) -> Origin:
    """Where the torch of this version string comes from."""
    public, _, local = version.partition("+")
    local = local.lower()
    nv = _NV.search(local)
    if nv:
        release = f"{nv.group(1)}.{nv.group(2)}"
        return Origin(NVIDIA, f"NVIDIA's build {release} (an NGC container's or a JetPack wheel)")
    variant = _VARIANT.match(local)
    if _DEV.search(public):
        return Origin(NIGHTLY, "a nightly build", variant.group(1) if variant else None)
    if variant:
        return Origin(PYTORCH_INDEX, f"the +{variant.group(1)} wheel", variant.group(1))
    if local and _HASH.fullmatch(local):
        return Origin(SOURCE, f"a source build (commit {local.removeprefix('git')})")
    if _PRE.match(public):
        return Origin(SOURCE, "a pre-release or source build")
    return Origin(PYPI, "a release without a local tag (PyPI or conda)")


def not_the_official_wheel(version: str, conda: dict[str, str]) -> str | None:
    """Why this torch is not the official wheel of its version (NVIDIA's, a source build,
    a nightly, conda-forge's), or None when it is one (a download.pytorch.org or PyPI
    release, or the pytorch channel's conda build of it): another build is compiled for
    its own arch list and against its own cuDNN, so the official row's do not apply."""
    origin = torch_origin(version)
    if origin.kind in (NVIDIA, SOURCE, NIGHTLY):
        return origin.label
    built = conda_torch(conda)
    if built is not None and built.channel == "conda-forge":
        return f"conda-forge's build ({built.build})"
    return None


def is_released(version: str) -> bool:
    """A plain release as PyPI carries it ("0.18.0", "0.18.0+cu121"): no pre-release,
    dev or source tag. A vendor's own torchvision ("0.18.0a0", "0.16.0a0+git") is not."""
    public, _, local = version.partition("+")
    if not re.fullmatch(r"\d+(?:\.\d+)*(?:\.post\d+)?", public):
        return False
    return not local or bool(_VARIANT.fullmatch(local.lower()))


@dataclass(frozen=True, slots=True)
class CondaTorch:
    """conda's pytorch package as its build string describes it."""

    version: str
    build: str
    channel: str  # "pytorch" (py3.10_cuda11.8_...), "conda-forge" (cuda118_py310h...)
    cuda: str | None  # "11.8"; None for a CPU build or a build string that does not say
    cpu: bool


_PYTORCH_CUDA = re.compile(r"py\d\.\d+_cuda(\d+)\.(\d+)(?:\.\d+)*_cudnn")
_PYTORCH_CPU = re.compile(r"py\d\.\d+_cpu_")
_FORGE_CUDA = re.compile(r"cuda(\d{2,3})_")
_FORGE_CPU = re.compile(r"cpu_")


def conda_torch(conda: dict[str, str]) -> CondaTorch | None:
    """conda's pytorch from a conda package list (name -> "version build"), or None when
    the list has no pytorch or its entry names no build."""
    entry = conda.get("pytorch")
    if not entry or " " not in entry:
        return None
    version, build = entry.split(" ", 1)
    m = _PYTORCH_CUDA.match(build)
    if m:
        return CondaTorch(version, build, "pytorch", f"{m.group(1)}.{m.group(2)}", False)
    if _PYTORCH_CPU.match(build):
        return CondaTorch(version, build, "pytorch", None, True)
    m = _FORGE_CUDA.match(build)
    if m:
        digits = m.group(1)
        return CondaTorch(version, build, "conda-forge", f"{digits[:-1]}.{digits[-1]}", False)
    if _FORGE_CPU.match(build):
        return CondaTorch(version, build, "conda-forge", None, True)
    return None


def pip_torch(conda: dict[str, str], packages: dict[str, str]) -> str | None:
    """The version of a torch pip installed: conda lists it as `torch <version> pypi_0` (or
    `<pip>`); pip lists conda's pytorch as torch too, so a pip line counts only where conda
    lists no pytorch or another version of it."""
    entry = conda.get("torch")
    if entry:
        version, _, build = entry.partition(" ")
        if build.startswith(("pypi", "<pip>")) or not build:
            return version
    return packages.get("torch")


def two_installs(conda: dict[str, str], packages: dict[str, str]) -> tuple[str, str] | None:
    """(conda's pytorch version, pip's torch version) when both installed torch into one
    environment: conda lists pytorch beside a pip torch, or pip's torch is another version
    than conda's pytorch."""
    entry = conda.get("pytorch")
    if not entry:
        return None
    conda_version = entry.split(" ", 1)[0]
    pip = pip_torch(conda, packages)
    if pip is None:
        return None
    in_conda_as_pip = "torch" in conda
    if in_conda_as_pip or pip.split("+", 1)[0] != conda_version.split("+", 1)[0]:
        return conda_version, pip
    return None


# conda packages that ask for a CUDA build of torch
_CUDA_REQUESTS = ("pytorch-cuda", "cudatoolkit")


def cuda_wanted(
    conda: dict[str, str], wheels: list[str], nvcc: str | None, members: dict[str, str]
) -> str | None:
    """What in an environment asks for CUDA (for a CPU-only torch beside it), or None:
    conda's pytorch-cuda or cudatoolkit, pytorch-mutex's cuda build, nvidia-* CUDA wheels, a
    torch family member built for CUDA (+cu118), a CUDA toolkit (nvcc) on the machine."""
    for name in _CUDA_REQUESTS:
        if name in conda:
            return f"conda has {name} {conda[name].split(' ', 1)[0]}"
    mutex = conda.get("pytorch-mutex", "")
    if mutex.endswith(" cuda"):
        return "conda's pytorch-mutex is the cuda one"
    cuda_wheels = sorted(w for w in wheels if w.startswith("nvidia-") and "-cu1" in w)
    if cuda_wheels:
        return f"the CUDA wheels {', '.join(cuda_wheels[:3])} are installed"
    for member, version in sorted(members.items()):
        local = version.partition("+")[2].lower()
        if re.fullmatch(r"cu\d{2,3}", local):
            return f"{member} {version} is a CUDA build"
    if nvcc:
        return f"a CUDA toolkit ({nvcc}) is installed"
    return None
