"""Live torch facts, in a child process: the probe starts `main` under its own interpreter
through the bootstrap of probe/_served.py, this module and the few it imports served
from memory with it (envlock need not be installed there).

The child imports torch exactly as the user's code would, and any CUDA context or
loaded library stays in the child. Standard library only apart from torch, Python
3.8. The last stdout line is the marker the parent passes, followed by the JSON facts.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import time
import warnings

from envlock.probe._parentwatch import exit_with_parent
from envlock.probe.libnames import CUDA_LIBRARY_PREFIXES, decode_cudnn, decode_nccl

# typing is not imported at run time: the child starts before torch.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from envlock.probe.shapes import LoadedLibDoc, TorchDeviceDoc, TorchLiveDoc

__all__ = ["collect", "decode_cudnn", "decode_nccl", "main"]


def _first_line(text: Any) -> str:
    for line in str(text).strip().splitlines():
        if line.strip():
            return line.strip()
    return ""


def _safe(fn: Callable[[], Any], default: Any = None) -> Any:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # deprecation notices about the very flags we read
            return fn()
    except Exception:
        return default


def loaded_libraries() -> list[LoadedLibDoc]:
    out: list[LoadedLibDoc] = []
    seen = set()
    try:
        with open("/proc/self/maps") as fh:
            for line in fh:
                parts = line.split(None, 5)
                if len(parts) < 6:
                    continue
                path = parts[5].strip()
                base = path.rsplit("/", 1)[-1]
                wanted = base.startswith(CUDA_LIBRARY_PREFIXES) and ".so" in base
                if path.startswith("/") and wanted and path not in seen:
                    seen.add(path)
                    out.append({"name": base, "path": path})
    except OSError:
        pass
    return out


def unavailable_reason(torch: Any, caught: list[Any]) -> str:
    if getattr(torch.version, "cuda", None) is None:
        if getattr(torch.version, "hip", None):
            return f"torch is a ROCm build (hip {torch.version.hip})"
        local = str(torch.__version__).partition("+")[2]
        return "torch is a CPU-only build (+{})".format(local or "cpu")
    for w in caught:
        text = _first_line(w.message)
        if text:
            return text
    try:
        torch.cuda.init()
    except Exception as exc:
        return _first_line(exc) or type(exc).__name__
    return "torch.cuda.is_available() returned False"


def arch_floor(flags: list[str]) -> str | None:
    """torch's own floor, as its 'minimum cuda capability supported by this library is 7.5'
    warning computes it: the least capability of its arch list ("sm_75" -> "7.5")."""
    found = []
    for flag in flags:
        kind, _, digits = flag.partition("_")
        digits = digits.rstrip("af")  # sm_90a, sm_100f: the capability is the digits
        ascii_number = digits.isascii() and digits.isdigit() and 2 <= len(digits) <= 4
        if kind in ("sm", "compute") and ascii_number:
            found.append(int(digits))
    if not found:
        return None
    low = min(found)
    return f"{low // 10}.{low % 10}"


def _xnnpack_enabled() -> bool:
    import torch.backends.xnnpack  # not imported by `import torch`

    return bool(torch.backends.xnnpack.enabled)


def collect() -> TorchLiveDoc:
    facts: TorchLiveDoc = {"unavailable": None}
    t0 = time.perf_counter()
    try:
        import torch
    except Exception as exc:
        facts["unavailable"] = f"import torch failed: {type(exc).__name__}: {_first_line(exc)}"
        return facts
    facts["import_seconds"] = round(time.perf_counter() - t0, 3)
    cudnn = _safe(lambda: torch.backends.cudnn.version())
    facts["cudnn_version"] = decode_cudnn(cudnn)
    if getattr(torch.version, "cuda", None):
        facts["nccl_version"] = _safe(lambda: decode_nccl(torch.cuda.nccl.version()))
    # collect_env's "Is XNNPACK available" (the CPU inference backend of mobile/quantized ops)
    facts["xnnpack"] = _safe(_xnnpack_enabled)
    flags = _safe(lambda: torch._C._cuda_getArchFlags())
    facts["arch_flags"] = str(flags).split() if flags else []
    facts["min_capability"] = arch_floor(facts["arch_flags"])
    abi = _safe(lambda: torch._C._GLIBCXX_USE_CXX11_ABI)
    facts["cxx11_abi"] = bool(abi) if abi is not None else None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        available = bool(_safe_raw(torch.cuda.is_available, False))
    facts["cuda_available"] = available
    facts["cuda_unavailable_reason"] = None if available else unavailable_reason(torch, caught)
    facts["device_count"] = _safe(lambda: torch.cuda.device_count()) if available else 0
    devices: list[TorchDeviceDoc] = []
    if available:
        for i in range(facts["device_count"] or 0):
            p = _safe(functools.partial(torch.cuda.get_device_properties, i))
            if p is None:
                devices.append({"index": i})
                continue
            devices.append(
                {
                    "index": i,
                    "name": p.name,
                    "compute_capability": f"{p.major}.{p.minor}",
                    "sm_count": int(p.multi_processor_count),
                    "memory_total_bytes": int(p.total_memory),
                }
            )
        facts["bf16_supported"] = _safe(lambda: bool(torch.cuda.is_bf16_supported()))
    facts["devices"] = devices
    facts["flags"] = {
        "deterministic_algorithms": _safe(lambda: torch.are_deterministic_algorithms_enabled()),
        "deterministic_warn_only": _safe(
            lambda: torch.is_deterministic_algorithms_warn_only_enabled()
        ),
        "cudnn_enabled": _safe(lambda: bool(torch.backends.cudnn.enabled)),
        "cudnn_benchmark": _safe(lambda: bool(torch.backends.cudnn.benchmark)),
        "cudnn_deterministic": _safe(lambda: bool(torch.backends.cudnn.deterministic)),
        "tf32_matmul": _safe(lambda: bool(torch.backends.cuda.matmul.allow_tf32)),
        "tf32_cudnn": _safe(lambda: bool(torch.backends.cudnn.allow_tf32)),
        "float32_matmul_precision": _safe(lambda: str(torch.get_float32_matmul_precision())),
    }
    # Last, so cuDNN and NCCL (touched above) show up with the files the loader picked.
    facts["loaded_libraries"] = loaded_libraries()
    return facts


def _safe_raw(fn: Callable[[], Any], default: Any) -> Any:
    try:
        return fn()
    except Exception:
        return default


def main(argv: list[str]) -> None:
    """argv: the marker that starts the facts line (the parent's, so it is written once)."""
    exit_with_parent()
    try:
        facts = collect()
    except Exception as exc:  # report, never a traceback the parent must parse
        facts = {
            "unavailable": f"torch live probe failed: {type(exc).__name__}: {_first_line(exc)}"
        }
    sys.stdout.write("\n" + argv[0] + json.dumps(facts) + "\n")
    sys.stdout.flush()
    sys.stderr.flush()
    # Skip interpreter teardown: unloading torch and the CUDA libraries costs ~0.4 s and
    # tells us nothing; the facts are already written.
    os._exit(0)
