"""Bulleted environment lists: Hugging Face's tools, an application's System Info, by hand.

Hugging Face's tools print "- Key: value" bullets (their `format_dict`): `transformers-cli
env`, `diffusers-cli env`, `accelerate env`, optimum's, `lerobot-info`:

    - Platform: Linux-5.15.0-91-generic-x86_64-with-glibc2.35      (platform.platform())
    - Python version: 3.10.12
    - PyTorch version (GPU?): 2.6.0+cu118 (True)                   (torch.cuda.is_available())
    - GPU type: NVIDIA A100-SXM4-80GB                                (transformers, accelerate)
    - Accelerator: NVIDIA GeForce RTX 3090, 24576 MiB               (diffusers: nvidia-smi)
    - Is PyTorch built with CUDA support?: True                     (lerobot: is_available())
    - Cuda version: 12.6                                            (lerobot: torch's CUDA;
                                                                     11080 in 0.1, compiled)
    - GPU model: NVIDIA A800 80GB PCIe                              (lerobot)

An application's generated list ("- **PyTorch:** 2.9.1+cu130") and one written by hand
("- **GPU**: NVIDIA GeForce RTX 5090 (32GB GDDR7)", "- NVIDIA driver: `580.88`") are read
the same way, for the keys whose meaning does not depend on the tool: torch's version, the
GPU's name (an NVIDIA one), the driver's version, Python, the platform. A bare "CUDA
version" is torch's CUDA only in lerobot's list (its own code prints torch's); elsewhere it
is as often nvidia-smi's, so only a "(Driver 570.181)" beside it is read. A list without a
torch version is not read at all for those keys; its "Platform" (or "OS") naming a container
runtime ("- Platform: docker", transformers#11658's hand-written list) says the report
comes from inside a container whatever else the list holds (`container_runtime`).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from envlock.pasted.toolreading import TORCH_VERSION, ToolReading

# a bullet, or two (a bulleted list quoted as a list item again)
_BULLET = re.compile(r"^[ \t]{0,4}[-*\u2022][ \t]+(?:[-*\u2022][ \t]+)?(.*)$")
_BOLD_KEY = re.compile(r"^\*\*([^*:]{1,60}?)(:?)\*\*(:?)[ \t]*(.*)$")
_KEY = re.compile(r"[A-Za-z0-9_ .()?/`'-]{1,60}")
_TORCH = re.compile(rf"({TORCH_VERSION})(?:[ \t]*\(([^()]{{0,40}})\))?")
_VERSION = re.compile(r"\d+\.\d+(?:\.\d+)?(?:\.?[a-z]+\d*)*")
_DRIVER = re.compile(r"\d{3}\.\d{1,3}(?:\.\d{1,3})?")
_DRIVER_IN = re.compile(r"\(driver:?[ \t]*(\d{3}\.\d{1,3}(?:\.\d{1,3})?)\)", re.IGNORECASE)
_CUDA_INT = re.compile(r"(\d{1,2})0(\d{1,2})0")  # torch._C._cuda_getCompiledVersion(): 11080
_PLATFORM = re.compile(r"(?:Linux|Windows|macOS|Darwin)-[\w.-]+")
_MEMORY = re.compile(r"^(.*?)[ \t]*(?:\([^()]{0,40}\)|,[ \t]*\d+[ \t]*MiB)$")
# the runtimes whose /dev/shm is a small tmpfs of their own unless told otherwise (Docker and
# Podman: 64 MiB; a Kubernetes pod: the runtime's); Singularity/Apptainer share the host's
_RUNTIME = re.compile(r"\b(?:docker|podman|kubernetes|k8s)\b")
_CPU_NOTE = re.compile(r"\bcpu\b", re.IGNORECASE)
_GPU_WORDS = re.compile(r"gpu|cuda|rocm|mps|xpu", re.IGNORECASE)
_NVIDIA_WORDS = ("nvidia", "geforce", "quadro", "tesla", "titan", "rtx", "gtx")

_TORCH_KEYS = frozenset(
    {
        "pytorch version (gpu?)",
        "pytorch version (accelerator?)",
        "pytorch version",
        "pytorch",
        "torch",
        "torch version",
    }
)
_AVAILABLE_KEYS = frozenset(
    {
        "is pytorch built with cuda support?",  # lerobot's: torch.cuda.is_available()
        "cuda available",
        "gpu available",
        "torch.cuda.is_available()",
    }
)
_TORCH_CUDA_KEYS = frozenset(
    {"pytorch cuda build", "pytorch cuda", "pytorch cuda version", "torch.version.cuda"}
)
_GPU_KEYS = frozenset({"gpu", "gpu type", "gpu model", "gpu name", "graphics card"})
_DRIVER_KEYS = frozenset({"nvidia driver", "nvidia driver version", "driver", "driver version"})
_PYTHON_KEYS = frozenset({"python", "python version"})
_PACKAGES = {
    "numpy version": "numpy",
    "transformers version": "transformers",
    "accelerate version": "accelerate",
    "diffusers version": "diffusers",
    "xformers version": "xformers",
    "torchvision version": "torchvision",
    "torchaudio version": "torchaudio",
    "triton version": "triton",
}
_TRUE = frozenset({"true", "cuda", "cuda available: true"})
_FALSE = frozenset({"false", "cuda available: false"})


def bullet_pairs(text: str) -> list[tuple[str, str]]:
    """(key, value) of each "- Key: value" line (bold and backticks removed), keys in
    lowercase with single spaces; a value's continuation lines are not joined."""
    pairs = []
    for line in text.split("\n"):
        m = _BULLET.match(line)
        items = _items(m.group(1)) if m else []
        pairs += [pair for pair in map(_pair, items) if pair]
    return pairs


def _items(line: str) -> list[str]:
    """A bullet's item, or the items of a list flattened onto one line ("- A: 1 - B: 2"):
    split at " - " where a "Key: value" follows, else the dash is part of the value."""
    pieces = line.split(" - ")
    items = [[pieces[0]]]
    for piece in pieces[1:]:
        if _pair(piece):
            items.append([piece])
        else:
            items[-1].append(piece)
    return [" - ".join(item) for item in items]


def _pair(item: str) -> tuple[str, str] | None:
    bold = _BOLD_KEY.match(item)
    if bold:
        if not (bold.group(2) or bold.group(3)):
            return None
        key, value = bold.group(1), bold.group(4)
    else:
        key, sep, value = item.partition(":")
        if not sep:
            return None
    key = key.replace("\U0001f917", "").strip()
    if not _KEY.fullmatch(key):
        return None
    key = " ".join(key.replace("`", "").lower().split())
    return key, value.replace("`", "").strip()


def container_runtime(text: str) -> str | None:
    """The container runtime a list's "Platform" or "OS" value names as a word ("docker",
    "Ubuntu 22.04 (Docker)"); None when no such line names one."""
    for key, value in bullet_pairs(text):
        if key in ("platform", "os"):
            m = _RUNTIME.search(value.lower())
            if m:
                return "kubernetes" if m.group() == "k8s" else m.group()
    return None


def read_env_list(text: str) -> ToolReading | None:
    """The collect_env facts a bulleted environment list holds; None without a torch."""
    pairs = bullet_pairs(text)
    if not any(key in _TORCH_KEYS for key, _ in pairs):
        return None
    lerobot = any(key == "lerobot version" for key, _ in pairs)
    out = ToolReading()
    for key, value in pairs:
        _read(key, value, out, lerobot)
    if "PyTorch version" not in out.fields:
        return None
    out.notes.append("an environment list ('- Key: value', as Hugging Face's tools print): read")
    return out


def _read(key: str, value: str, out: ToolReading, lerobot: bool) -> None:
    if key in _TORCH_CUDA_KEYS or (lerobot and key == "cuda version"):
        out.put("CUDA used to build PyTorch", _torch_cuda(value))
    elif key in _PACKAGES and _VERSION.fullmatch(value):
        out.packages.setdefault(_PACKAGES[key], value)
    else:
        read = next((r for keys, r in _READERS if key in keys), None)
        if read is not None:
            read(value, out)
    m = _DRIVER_IN.search(value)
    if m:
        out.put("Nvidia driver version", m.group(1))


def _available_line(value: str, out: ToolReading) -> None:
    out.put("Is CUDA available", _available(value))


def _gpu(value: str, out: ToolReading) -> None:
    name = gpu_name(value)
    if name:
        out.gpus.setdefault(0, name)


def _driver(value: str, out: ToolReading) -> None:
    out.put("Nvidia driver version", value if _DRIVER.fullmatch(value) else None)


def _python(value: str, out: ToolReading) -> None:
    m = _VERSION.match(value)
    out.put("Python version", m.group() if m else None)


def _torch(value: str, out: ToolReading) -> None:
    """ "2.6.0+cu118 (True)": the version, and in parentheses whether CUDA is available (a list
    written by hand may say the build there: "1.5.0 (CPU toolkit)", pyg-1330)."""
    m = _TORCH.fullmatch(value)
    if not m:
        return
    out.put("PyTorch version", m.group(1))
    note = m.group(2) or ""
    out.put("Is CUDA available", _available(note))
    # a hand-written "1.5.0 (CPU toolkit)", "(cpu only)": the build, where the tag is not
    if "+" not in m.group(1) and _CPU_NOTE.search(note) and not _GPU_WORDS.search(note):
        out.put("CUDA used to build PyTorch", "None")


def _available(value: str) -> str | None:
    low = " ".join(value.lower().split())
    return "True" if low in _TRUE else "False" if low in _FALSE else None


def _torch_cuda(value: str) -> str | None:
    """torch's CUDA: "12.6", "None", or lerobot 0.1's compiled version 11080 (11.8)."""
    if value.lower() == "none":
        return "None"
    m = _CUDA_INT.fullmatch(value)
    if m:
        return f"{m.group(1)}.{m.group(2)}"
    m = _VERSION.fullmatch(value)
    return value if m else None


def gpu_name(value: str) -> str | None:
    """An NVIDIA GPU's name from a list's value, without the memory beside it ("(16 GB)",
    ", 24576 MiB"); None for any other value (another vendor's GPU, "N/A", prose)."""
    name = value.strip()
    m = _MEMORY.match(name)
    if m:
        name = m.group(1)
    low = name.lower()
    if not name or len(name) > 80 or not any(w in low for w in _NVIDIA_WORDS):
        return None
    if any(w in low for w in ("amd", "radeon", "intel", "apple")):
        return None
    return name


def _platform(value: str, out: ToolReading) -> None:
    """platform.platform()'s string is collect_env's 'Python platform'; an OS name its 'OS'."""
    joined = _PLATFORM.match(value)  # the next bullet joined on as if wrapped: "...2.31- Python"
    if _PLATFORM.fullmatch(value):
        out.put("Python platform", value)
    elif joined and value[joined.end() :].startswith(" ") and joined.group().endswith("-"):
        out.put("Python platform", joined.group().rstrip("-"))
    elif value.lower().startswith("windows "):
        out.put("OS", f"Microsoft {value}")
    elif re.match(r"(?:ubuntu|debian|centos|red hat|rocky|fedora|almalinux)\b", value.lower()):
        out.put("OS", value)


# key set -> its reader (the keys of torch's CUDA and of packages are read in _read)
_READERS: tuple[tuple[frozenset[str], Callable[[str, ToolReading], None]], ...] = (
    (_TORCH_KEYS, _torch),
    (_AVAILABLE_KEYS, _available_line),
    (_GPU_KEYS | {"accelerator"}, _gpu),
    (_DRIVER_KEYS, _driver),
    (_PYTHON_KEYS, _python),
    (frozenset({"platform", "os"}), _platform),
)
