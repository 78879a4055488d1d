"""Live torch facts, run as `python -c <this file's text>` in a child process.

Self-contained (no envlock imports): the parent reads this file and passes it
with -c, so the child imports torch exactly as the user's code would, and any
CUDA context or loaded library stays in the child. The last stdout line is
MARKER followed by the JSON facts.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

MARKER = "ENVLOCK-TORCH-LIVE:"

# A copy of envlock.probe.libnames.CUDA_LIBRARY_PREFIXES (this script imports nothing of
# envlock); tests/probe/test_cuda_library_prefixes.py holds the two equal.
_LIB_PREFIXES = (
    "libcuda.so",
    "libnvidia-ml",
    "libcudart",
    "libcudnn",
    "libnccl",
    "libcublas",
    "libcusparse",
    "libcufft",
    "libcurand",
    "libcusolver",
    "libnvJitLink",
    "libnvrtc",
    "libcupti",
)


def decode_cudnn(value: Any) -> str | None:
    """cuDNN 9: major*10000 + minor*100 + patch; cuDNN <= 8: major*1000 + minor*100 + patch."""
    if value is None:
        return None
    v = int(value)
    if v >= 90000:
        return f"{v // 10000}.{(v % 10000) // 100}.{v % 100}"
    return f"{v // 1000}.{(v % 1000) // 100}.{v % 100}"


def decode_nccl(value: Any) -> str | None:
    """(2, 30, 7) or the packed int of older torch (NCCL >= 2.9: major*10000+minor*100+patch)."""
    if value is None:
        return None
    if isinstance(value, (tuple, list)):
        return ".".join(str(int(p)) for p in value[:3])
    v = int(value)
    if v >= 20900:
        return f"{v // 10000}.{(v % 10000) // 100}.{v % 100}"
    return f"{v // 1000}.{(v % 1000) // 100}.{v % 100}"


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


def loaded_libraries() -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    seen = set()
    try:
        with open("/proc/self/maps") as fh:
            for line in fh:
                parts = line.split(None, 5)
                if len(parts) < 6:
                    continue
                path = parts[5].strip()
                base = path.rsplit("/", 1)[-1]
                wanted = base.startswith(_LIB_PREFIXES) and ".so" in base
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


def _xnnpack_enabled() -> bool:
    import torch.backends.xnnpack  # not imported by `import torch`

    return bool(torch.backends.xnnpack.enabled)


def collect() -> dict[str, Any]:
    facts: dict[str, Any] = {"unavailable": None}
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
    abi = _safe(lambda: torch._C._GLIBCXX_USE_CXX11_ABI)
    facts["cxx11_abi"] = bool(abi) if abi is not None else None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        available = bool(_safe_raw(torch.cuda.is_available, False))
    facts["cuda_available"] = available
    facts["cuda_unavailable_reason"] = None if available else unavailable_reason(torch, caught)
    facts["device_count"] = _safe(lambda: torch.cuda.device_count()) if available else 0
    devices: list[dict[str, Any]] = []
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


def _exit_with_parent() -> None:
    """Exit when the parent dies (kill -9 of envlock): a child must not run on, holding a GPU.

    Linux: the kernel sends SIGKILL when the parent dies (prctl PR_SET_PDEATHSIG; the
    parent starts this child from its main thread, which lives as long as it does). A
    polling thread covers other systems, between the GIL-holding parts of an import.
    """
    import threading

    # The parent passes its pid: if it died before this line, getppid() is already
    # another process (init or a subreaper), and comparing with it would miss that.
    expected = os.environ.get("ENVLOCK_PARENT_PID", "")
    parent = int(expected) if expected.isdigit() else os.getppid()
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, 9)  # PR_SET_PDEATHSIG = 1, SIGKILL = 9
    except Exception:  # not Linux, or no prctl: the thread below still watches
        pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(3)

    def watch() -> None:
        while True:
            time.sleep(0.25)
            if os.getppid() != parent:
                os._exit(3)

    threading.Thread(target=watch, name="envlock-parent-watch", daemon=True).start()


def main() -> None:
    _exit_with_parent()
    try:
        facts = collect()
    except Exception as exc:  # report, never a traceback the parent must parse
        facts = {
            "unavailable": f"torch live probe failed: {type(exc).__name__}: {_first_line(exc)}"
        }
    sys.stdout.write("\n" + MARKER + json.dumps(facts) + "\n")
    sys.stdout.flush()
    sys.stderr.flush()
    # Skip interpreter teardown: unloading torch and the CUDA libraries costs ~0.4 s and
    # tells us nothing; the facts are already written.
    os._exit(0)


if __name__ == "__main__":
    main()
