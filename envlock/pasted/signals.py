"""What a collect_env report says beyond its keys, read once every key is: a machine
without a usable NVIDIA driver.

- torch printed "Found no NVIDIA driver on your system" and the report lists no GPU: no
  GPU is usable here (torch's own word);
- "Is CUDA available: False" from a CUDA build of torch while "Nvidia driver version" and
  "GPU models and configuration" say "Could not collect": nvidia-smi did not run and torch
  found no device, the signature of a machine (or container) without the driver; a Jetson
  (a tegra kernel) has no nvidia-smi at all and is left alone;
- torch printed "Can't initialize NVML", CUDA is unavailable to a CUDA build and no driver
  or GPU is listed: the driver's library is not here (a Space or container started without
  a GPU);
- a tool's environment list (lerobot-info, `transformers-cli env`: envlock/pasted/hfenv.py)
  where torch.cuda.is_available() is False for a CUDA build and no GPU, no driver and none of
  collect_env's own lines are listed: nothing on the machine answered for a GPU (the corpus
  standard's no-driver; a Jetson and WSL are left alone, and a pasted nvidia-smi listing GPUs
  wins);
- a CPU build of torch whose report says "Could not collect" for both the driver and the
  GPUs: nvidia-smi answered nothing, so no NVIDIA GPU is visible here and the CPU build is
  what this machine runs (vLLM's CPU backend, a CPU-only VM with a CUDA toolkit);
- torch's version without a local tag, its CUDA not said, beside torch's own warning raised in
  c10/cuda from pytorch/builder's Linux wheel build root (envlock/pasted/torch_warnings.py): a
  pip-installed Linux CUDA wheel of that release, which is PyPI's default variant (the matrix's
  default-variant: 1.7.1 is cu102; YOLOv5's old banner 'torch 1.7.1' beside 'The NVIDIA driver
  on your system is too old', yolov5#2389);
- vLLM's copy prints "vLLM Version: 0.8.5.post1" by importing vllm: vllm is installed,
  though its pip filter does not list it (added beside a library list that was read).
"""

from __future__ import annotations

import re

from envlock.pasted.draft import Draft
from envlock.pasted.torch_warnings import PIP_LINUX_CUDA_WHEEL

# '0.8.5.post1', '0.9.2.dev41+gaf09b3f0a (git sha: af09b3f0a)'; 'N/A' and 'dev' are not read
_VLLM_VERSION = re.compile(r"\s*(\d+\.\d+(?:\.\d+)*(?:\.?(?:post|dev|rc)\d+)*(?:\+[\w.]+)?)")

_NOT_COLLECTED = "could not collect"
# fields only torch's collect_env (or a full copy of it) prints: a report holding any of them is
# a collect_env report, not a tool's short list, and is judged by its own driver and GPU lines
_COLLECT_ENV_ONLY = ("debug", "nvcc", "module_loading", "cudnn", "gcc", "clang", "libc", "xnnpack")


def collect_env_signals(fields: dict[str, list[str]], d: Draft) -> None:
    """Apply what the report's fields say together (`fields`: collect_env's, as read)."""
    if PIP_LINUX_CUDA_WHEEL in d.notes:
        _pypi_default_cuda(d)
    if d.gpus is None and _cpu_build(fields, d) and _nothing_collected(fields):
        d.gpus = []
        d.note(
            "nvidia-smi answered nothing (driver and GPUs: 'Could not collect') beside a CPU "
            "build of torch: no NVIDIA GPU is visible here"
        )
    if d.gpus is None and d.torch.get("cuda") and not _tegra(fields):
        if d.torch_found_no_driver:
            _no_driver(d, "torch printed 'Found no NVIDIA driver on your system'")
        elif d.torch_nvml_failed and _cuda_false_none_listed(fields):
            _no_driver(
                d,
                "torch printed \"Can't initialize NVML\" (the driver's library did not load) "
                "and torch.cuda.is_available() is False",
            )
        elif _cuda_false_nothing_collected(fields):
            _no_driver(
                d,
                "nvidia-smi did not run (driver and GPUs: 'Could not collect') and "
                "torch.cuda.is_available() is False",
            )
        elif _cuda_false_in_a_short_list(fields):
            _no_driver(
                d,
                "torch.cuda.is_available() is False for a CUDA build of torch and the "
                "environment list names no GPU and no driver",
            )
    _vllm_installed(fields, d)


def _pypi_default_cuda(d: Draft) -> None:
    """torch's CUDA where the report does not say it: PyPI's default variant of its release,
    for an untagged release that torch's own warning shows is a pip-installed Linux CUDA wheel."""
    from envlock.matrix import Version, load_matrix
    from envlock.matrix.builds import PYPI, is_released, torch_origin

    version = d.torch.get("version")
    if d.torch.get("installed") or not version or d.torch.get("hip"):
        return
    parsed = Version.of(version)
    if parsed is None or torch_origin(version).kind != PYPI or not is_released(version):
        return
    release = load_matrix().torch_release(parsed)
    variant = release.default_variant if release else ""
    m = re.fullmatch(r"cu(\d{1,2}?)(\d)", variant)
    if m is None:
        return
    d.torch.pop("unavailable", None)
    d.torch.update({"installed": True, "cuda": f"{m.group(1)}.{m.group(2)}", "build": variant})
    d.note(
        f"torch {version} has no local tag and is a Linux CUDA wheel from pip: PyPI's default "
        f"build of {parsed.truncate(2)}, {variant}"
    )


def _vllm_installed(fields: dict[str, list[str]], d: Draft) -> None:
    release = _VLLM_VERSION.match(_raw(fields, "vllm") or "")
    if release and d.packages:
        d.add_package("vllm", release.group(1))


def _raw(fields: dict[str, list[str]], name: str) -> str | None:
    lines = fields.get(name)
    return lines[0].strip().lower() if lines else None


def _cuda_false_nothing_collected(fields: dict[str, list[str]]) -> bool:
    return (
        _raw(fields, "cuda_available") in ("false", "no")
        and _raw(fields, "driver") == _NOT_COLLECTED
        and _raw(fields, "gpus") in (None, _NOT_COLLECTED)
    )


def _cuda_false_none_listed(fields: dict[str, list[str]]) -> bool:
    """CUDA unavailable and neither a driver nor a GPU listed (cut before them, or 'Could not
    collect'): where only NVML is missing (WSL, some containers) CUDA is available."""
    return (
        _raw(fields, "cuda_available") in ("false", "no")
        and _raw(fields, "driver") in (None, _NOT_COLLECTED)
        and _raw(fields, "gpus") in (None, _NOT_COLLECTED)
    )


def _cuda_false_in_a_short_list(fields: dict[str, list[str]]) -> bool:
    """A tool's list (no collect_env-only line) with CUDA unavailable, no driver, no GPU."""
    return (
        _raw(fields, "cuda_available") in ("false", "no")
        and "driver" not in fields
        and "gpus" not in fields
        and not any(key in fields for key in _COLLECT_ENV_ONLY)
        # WSL: the driver is the Windows host's, which a list cannot see; WSL 1's own
        # no-driver is checks/wsl.py's, WSL 2's is not observed here
        and "microsoft" not in (_raw(fields, "platform") or "")
    )


def _nothing_collected(fields: dict[str, list[str]]) -> bool:
    return _raw(fields, "driver") == _NOT_COLLECTED and _raw(fields, "gpus") == _NOT_COLLECTED


def _cpu_build(fields: dict[str, list[str]], d: Draft) -> bool:
    """A CPU build of torch: read as installed, with neither a CUDA nor a ROCm version (a
    report that does not say which CUDA torch was built with is not one)."""
    return bool(d.torch.get("installed")) and not d.torch.get("cuda") and not d.torch.get("hip")


def _tegra(fields: dict[str, list[str]]) -> bool:
    return "tegra" in (_raw(fields, "platform") or "") or "tegra" in (_raw(fields, "os") or "")


def _no_driver(d: Draft, why: str) -> None:
    """No GPU usable from this environment: the GPU list is empty, and why."""
    d.gpus = []
    d.set_default(d.driver, "unavailable", f"no NVIDIA driver usable here: {why}")
    d.note(f"no NVIDIA driver: {why}")
