"""`python3 -m sglang.check_env` and OpenMMLab's collect_env (`lmdeploy check_env`, mmcv's
and mmengine's): "Name: value" lines, read as the collect_env fields they hold.

sglang's (since 0.1.21) prints `Python:`, `CUDA available:`, `GPU 0,1: <name>` (GPUs of one
model on one line), `GPU 0,1 Compute Capability: 8.0`, `CUDA_HOME:`, `NVCC: Cuda compilation
tools, release 12.1, V12.1.105`, `CUDA Driver Version: 550.90.07` (older releases repeat
the version on one line per GPU), `PyTorch: 2.3.1+cu121`, then `<package>: <version>` lines
(`Module Not Found` for one not installed) and nvidia-smi's topology. OpenMMLab's adds
`sys.platform:`, `GCC:`, `PyTorch compiling details:` (torch.__config__.show()) and
`TorchVision:`, and prints no driver version.

The report is rewritten into the collect_env lines these fields have (`PyTorch version:`,
`Is CUDA available:`, `GPU models and configuration:` with one `GPU n:` line per GPU, ...),
which envlock/pasted/collect_env.py reads; every other line is kept as it was (torch's own
warnings printed before the report among them). The compute capability of each GPU comes
back beside the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from envlock.pasted.collect_env import looks_like_collect_env, parse_collect_env
from envlock.pasted.draft import Draft, rewritten_as_collect_env

# Both keys, each at the start of a line, make a report of this layout; torch's own
# collect_env has neither ("Is CUDA available:", "PyTorch version:").
AVAILABLE = re.compile(r"(?m)^[ \t]{0,4}(?:CUDA|ROCM) available:[ \t]*(?:True|False)[ \t]*$")
_TORCH = re.compile(r"(?m)^[ \t]{0,4}PyTorch:[ \t]*\d")
_LINE = re.compile(r"^[ \t]{0,4}([A-Za-z][A-Za-z0-9_ .,-]{0,40}?)[ \t]*:[ \t]*(.*)$")
_GPUS = re.compile(r"^GPU ((?:\d{1,3},)*\d{1,3})$")
_CAPABILITY = re.compile(r"^GPU ((?:\d{1,3},)*\d{1,3}) Compute Capability$")
_NVCC = re.compile(r"release (\d+\.\d+), V(\d+\.\d+(?:\.\d+)?)")
_VERSION = re.compile(r"\d[\w.+!-]*$")
_ROCM = re.compile(r"\+rocm(\d+\.\d+)")
# key (lowercase) -> the collect_env key it is
_KEYS = {
    "pytorch": "PyTorch version",
    "cuda available": "Is CUDA available",
    "rocm available": "Is CUDA available",  # torch.cuda.is_available() on a ROCm build
    "cuda driver version": "Nvidia driver version",
    "python": "Python version",
    "gcc": "GCC version",
}
# keys that are neither a field nor a package
_OTHER = frozenset(
    {
        "sys.platform",
        "cuda_home",
        "nvcc",
        "msvc",
        "numpy_random_seed",
        "musa available",
        "pytorch compiling details",
        "nvidia topology",
        "legend",
        "hypervisor vendor",
        "ulimit soft",
        "opencv",
        "mmengine",
        "rocm_home",
        "hipcc",
        "rocm driver version",
    }
)


@dataclass
class CheckEnv:
    """A check_env report as collect_env lines, and each GPU's compute capability."""

    text: str
    capabilities: dict[int, str] = field(default_factory=dict)


# mmengine's block starts with it: an excerpt cut before the 'PyTorch:' line still is one
_PLATFORM = re.compile(r"(?m)^[ \t]{0,4}sys\.platform:[ \t]*[a-z]")


def looks_like_check_env(text: str) -> bool:
    """OpenMMLab's block: 'CUDA available:' beside its 'PyTorch:' line, or beside its first
    line 'sys.platform:' where the excerpt ends before torch's (mmdetection-11650)."""
    return bool(AVAILABLE.search(text) and (_TORCH.search(text) or _PLATFORM.search(text)))


def as_collect_env(text: str) -> CheckEnv:
    fields: dict[str, str] = {}
    gpus: dict[int, str] = {}
    out = CheckEnv("")
    packages: list[str] = []
    kept: list[str] = []
    for line in text.split("\n"):
        m = _LINE.match(line)
        if m is None or not _read(m.group(1), m.group(2).strip(), fields, gpus, out, packages):
            kept.append(line)
    rocm = _ROCM.search(fields.get("PyTorch version", ""))
    if rocm:  # a ROCm build: its HIP version is in the local tag
        fields.setdefault("ROCM used to build PyTorch", rocm.group(1))
        fields.setdefault("CUDA used to build PyTorch", "N/A")
    lines = [f"{key}: {value}" for key, value in fields.items()]
    out.text = rewritten_as_collect_env(kept, lines, gpus, packages)
    return out


def _read(
    key: str,
    value: str,
    fields: dict[str, str],
    gpus: dict[int, str],
    out: CheckEnv,
    packages: list[str],
) -> bool:
    """One "Key: value" line into the fields; False to keep the line as it was."""
    low = key.lower()
    if low in _KEYS:
        fields.setdefault(_KEYS[low], value)
        return True
    if low == "nvcc":
        m = _NVCC.search(value)
        if m:
            fields.setdefault("CUDA runtime version", m.group(2))
        return True
    gpu, capability = _GPUS.match(key), _CAPABILITY.match(key)
    if gpu or capability:
        for index in (gpu or capability).group(1).split(","):  # type: ignore[union-attr]
            (gpus if gpu else out.capabilities).setdefault(int(index), value)
        return True
    if low in _OTHER:
        return True
    if _VERSION.match(value) and " " not in key:
        packages.append(f"[pip3] {key}=={value}")
        return True
    return value.lower() == "module not found"


def parse_report(text: str, draft: Draft) -> int:
    """A pasted report into `draft` (parse_collect_env's count): collect_env as it is, a
    check_env report as the collect_env lines its fields are."""
    if not looks_like_check_env(text) or looks_like_collect_env(text):
        return parse_collect_env(text, draft)
    check_env = as_collect_env(text)
    draft.note("sglang's check_env layout ('PyTorch: ...', 'CUDA available: ...'): read")
    read = parse_collect_env(check_env.text, draft)
    for gpu in draft.gpus or []:  # the compute capability it printed for each GPU
        draft.set_default(gpu, "compute_capability", check_env.capabilities.get(gpu["index"]))
    return read
