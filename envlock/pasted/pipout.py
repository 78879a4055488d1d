"""pip's own install output pasted into a report, read as the facts it states (issue 21).

pip names the installed version of each requirement it finds, where it found it, and the
indexes it was asked to search:

    Looking in indexes: https://download.pytorch.org/whl/cu128
    Requirement already satisfied: torch in c:\\users\\x\\appdata\\roaming\\python\\python312\\site-packages (2.5.1)
    Requirement already satisfied: filelock in c:\\users\\...\\site-packages (from torch) (3.16.1)
    Successfully installed torch-2.5.1+cu121 torchvision-0.20.1+cu121

(pip's req_install and install commands: "Requirement already satisfied: {req} in
{location} ({version})", older pips "Requirement already up-to-date"; "Successfully
installed" lists name-version pairs; the version is the distribution's, its local tag with
it.) The last statement of torch's version is the one in place now (pip's output is in
order). A location with a drive letter and backslashes is Windows' (Vonovox#14).

torch's build: a +cuNNN/+cpu tag says it. Without a tag, on Windows, a torch of 1.9 or later
that pip found outside a conda environment is PyPI's wheel, a CPU build
(checks/pypidefault.py says why); a conda environment's (anaconda, miniconda, miniforge,
mambaforge, micromamba, pixi, an `envs` folder) may be conda's CUDA build and is not judged.
Elsewhere an untagged torch says no build. The PyTorch index asked for is noted: Vonovox#14's
setup asked for cu128, whose wheels start at 2.7, so pip kept the CPU 2.5.1 it found.
"""

from __future__ import annotations

import re

from envlock.checks.pypidefault import WINDOWS_TAGGED_FROM
from envlock.matrix import Version
from envlock.pasted.pipshow import Shown, pypi_cuda, read_show
from envlock.pasted.toolreading import TORCH_VERSION, ToolReading

# "Requirement already satisfied: {req} in {location} [(from {parent})] ({version})"
_SATISFIED = re.compile(
    r"^[ \t]{0,8}Requirement already (?:satisfied|up-to-date): ([A-Za-z0-9][\w.-]{0,60})"
    r"(?:\[[\w,. -]{0,80}\])?[^ \t]{0,80} in ([^(]{1,400}?)"
    r"(?: \(from [^()]{0,200}(?:\([^()]{0,40}\)[^()]{0,200})?\))? \(([^()\s]{1,60})\)[ \t]*$"
)
_INSTALLED = re.compile(r"^[ \t]{0,8}Successfully installed (.{1,20000})$")
_NAME_VERSION = re.compile(r"([A-Za-z0-9][\w.-]{0,60}?)-(\d[\w.!+]{0,60})")
_INDEXES = re.compile(r"^[ \t]{0,8}Looking in (?:indexes|links): (.{1,2000})$")
_PYTORCH_INDEX = re.compile(
    r"https?://download\.pytorch\.org/whl/(?:nightly/|test/)?(cu\d{2,4}|cpu|rocm\d+(?:\.\d+)*)\b"
)
_WINDOWS_PATH = re.compile(r"^[A-Za-z]:\\")
_CONDA_WORDS = ("conda", "miniforge", "mambaforge", "micromamba", ".pixi", "\\envs\\")
_FAMILY = ("torch", "torchvision", "torchaudio")


def read_pip_output(text: str) -> ToolReading | None:
    """torch's version (and build where it is known), its family's versions, Windows and the
    PyTorch index asked for, from pip's lines; None without a torch version pip stated."""
    versions: dict[str, tuple[str, str | None]] = {}  # name -> (version, location)
    indexes: list[str] = []
    for line in text.split("\n"):
        if "Requirement already" in line and (m := _SATISFIED.match(line)):
            versions[m.group(1).lower()] = (m.group(3), m.group(2).strip())
        elif "Successfully installed" in line and (m := _INSTALLED.match(line.rstrip())):
            for pair in m.group(1).split():
                nv = _NAME_VERSION.fullmatch(pair)
                if nv:
                    versions[nv.group(1).lower()] = (nv.group(2), None)
        elif "Looking in" in line and (m := _INDEXES.match(line.rstrip())):
            indexes += [i.group(1) for i in _PYTORCH_INDEX.finditer(m.group(1))]
    installed = "torch" in versions  # pip's install lines stated it (they come first)
    shown = _shown(text, versions)
    torch, where = versions.get("torch", ("", None))
    if not re.fullmatch(TORCH_VERSION, torch):
        return None
    out = _reading(torch, where, versions, indexes)
    if not installed:
        _shown_build(torch, shown["torch"], out)
    return out


def _shown_build(torch: str, block: Shown, out: ToolReading) -> None:
    """What `pip show torch` says of the build: its local tag; the CUDA of PyPI's default
    variant where Requires names that CUDA major's NVIDIA runtime wheels; PyPI's Windows CPU
    wheel (_reading). An untagged version that says none is the distribution's version alone
    (a conda build, a source build: torch.__version__ may carry more), a package as a pip
    list's is (envlock/pasted/pip_torch.py), not torch's own version."""
    cuda = pypi_cuda(torch, block.requires)
    if cuda is not None:
        out.put("CUDA used to build PyTorch", cuda)
        out.notes.append(
            f"pip show torch: {torch} requires NVIDIA's CUDA {cuda.split('.')[0]} runtime wheels"
            f" (PyPI's Linux wheel, the CUDA {cuda} build)"
        )
    if "+" not in torch and "CUDA used to build PyTorch" not in out.fields:
        del out.fields["PyTorch version"]
        out.packages["torch"] = torch


def _shown(text: str, versions: dict[str, tuple[str, str | None]]) -> dict[str, Shown]:
    """`pip show`'s blocks; their versions added to what pip's install lines stated."""
    shown = read_show(text) if "Name:" in text else {}
    for name, block in shown.items():
        versions.setdefault(name, (block.version, block.location))
    return shown


def _reading(
    torch: str, where: str | None, versions: dict[str, tuple[str, str | None]], indexes: list[str]
) -> ToolReading:
    out = ToolReading()
    out.put("PyTorch version", torch)
    rocm = re.search(r"\+rocm(\d+\.\d+)", torch)
    if rocm:  # ROCm's wheel: its HIP version is in the local tag (as check_env reads it)
        out.put("ROCM used to build PyTorch", rocm.group(1))
        out.put("CUDA used to build PyTorch", "N/A")
    windows = where is not None and _WINDOWS_PATH.match(where) is not None
    if windows:
        out.put("OS", "Microsoft Windows")
    if windows and _pypi_windows_cpu(torch, str(where)):
        out.put("CUDA used to build PyTorch", "None")
        out.notes.append(
            f"torch {torch} has no local tag and pip found it outside a conda environment on "
            "Windows: PyPI's wheel, a CPU build"
        )
    out.packages.update({n: versions[n][0] for n in _FAMILY if n in versions})
    out.notes.append(f"pip's own output (its install lines or `pip show`: torch {torch}): read")
    if indexes:
        out.notes.append(f"pip was asked for PyTorch's {indexes[-1]} index")
    return out


def _pypi_windows_cpu(torch: str, where: str) -> bool:
    """An untagged release of 1.9 or later in a Windows site-packages that is no conda
    environment's: PyPI's CPU wheel."""
    v = Version.of(torch)
    low = where.lower()
    return (
        "+" not in torch
        and re.fullmatch(r"\d+\.\d+(?:\.\d+)?", torch) is not None
        and v is not None
        and not v < WINDOWS_TAGGED_FROM
        and not any(word in low for word in _CONDA_WORDS)
    )
