"""A fake `pynvml` module at the adapter boundary, replaying recorded NVML answers.

Built from a fixture's "nvml" mapping: a top-level key names a pynvml function
and holds its recorded return value, or {"raise": CODE, "text": ...} for a
recorded NVMLError; "devices" holds per-device mappings, reached through the
handle nvmlDeviceGetHandleByIndex returns; "constants" holds module constants
(NVML_BRAND_*). A function absent from the recording is absent from the module,
as in an older nvidia-ml-py. A device function called with arguments besides the
handle holds {"by_args": {"1,0": answer}} (the arguments joined by commas, e.g.
nvmlDeviceGetTotalEccErrors(handle, 1, 0)); one that fills a structure it is given
(nvmlDeviceGetGpuFabricInfo(handle, info)) holds {"fills": {field: value}} and
returns NVML_SUCCESS. tests/gpu/nvml_recorder.py writes this format from the real
pynvml.
"""

from __future__ import annotations

import threading
import types
from typing import Any

# NVML return codes as nvidia-ml-py raises them: nvmlReturn_t in the NVML API Reference,
# Device Enums (https://docs.nvidia.com/deploy/nvml-api/group__nvmlDeviceEnumvs.html).
ERROR_CODES = {
    "NVML_ERROR_UNINITIALIZED": 1,
    "NVML_ERROR_NOT_SUPPORTED": 3,
    "NVML_ERROR_NO_PERMISSION": 4,
    "NVML_ERROR_DRIVER_NOT_LOADED": 9,
    "NVML_ERROR_LIBRARY_NOT_FOUND": 12,
    "NVML_ERROR_FUNCTION_NOT_FOUND": 13,
    "NVML_ERROR_GPU_IS_LOST": 15,
    "NVML_ERROR_LIB_RM_VERSION_MISMATCH": 18,
}


class NVMLError(Exception):
    def __init__(self, value: int, text: str = "") -> None:
        super().__init__(value)
        self.value = value
        self.text = text

    def __str__(self) -> str:
        return self.text or f"NVML error {self.value}"


def _answer(recorded: Any) -> Any:
    if isinstance(recorded, dict) and "raise" in recorded:
        raise NVMLError(recorded["raise"], recorded.get("text", ""))
    if isinstance(recorded, dict):
        return types.SimpleNamespace(**recorded)  # ctypes structs: attribute access
    if isinstance(recorded, list):
        return tuple(recorded)
    return recorded


def _device_answer(recorded: Any, args: tuple[Any, ...]) -> Any:
    if isinstance(recorded, dict) and "by_args" in recorded:
        key = ",".join(str(a) for a in args)
        if key not in recorded["by_args"]:
            raise NVMLError(ERROR_CODES["NVML_ERROR_NOT_SUPPORTED"], "Not Supported")
        return _answer(recorded["by_args"][key])
    if isinstance(recorded, dict) and "fills" in recorded:
        for name, value in recorded["fills"].items():
            setattr(args[-1], name, value)  # the structure the caller passed in
        return 0  # NVML_SUCCESS, as nvidia-ml-py returns it
    return _answer(recorded)


def build_fake_pynvml(recording: dict[str, Any]) -> types.ModuleType:
    mod = types.ModuleType("pynvml")
    mod.NVMLError = NVMLError  # type: ignore[attr-defined]
    for name, code in ERROR_CODES.items():
        setattr(mod, name, code)
    devices = recording.get("devices", [])
    calls: list[str] = []
    mod.calls = calls  # type: ignore[attr-defined]

    def system_fn(name: str, recorded: Any) -> Any:
        def fn(*args: Any) -> Any:
            calls.append(name)
            return _answer(recorded)

        return fn

    def device_fn(name: str) -> Any:
        def fn(handle: Any, *args: Any) -> Any:
            calls.append(name)
            if name not in devices[handle.index]:
                raise NVMLError(ERROR_CODES["NVML_ERROR_NOT_SUPPORTED"], "Not Supported")
            return _device_answer(devices[handle.index][name], args)

        return fn

    # the structure nvmlDeviceGetGpuFabricInfo fills (c_nvmlGpuFabricInfo_t in nvidia-ml-py)
    mod.c_nvmlGpuFabricInfo_t = types.SimpleNamespace  # type: ignore[attr-defined]
    for name, value in recording.get("constants", {}).items():
        setattr(mod, name, value)  # recorded module constants (NVML_BRAND_*)
    for name, recorded in recording.items():
        if name not in ("devices", "constants"):
            setattr(mod, name, system_fn(name, recorded))
    if "nvmlInit" not in recording:
        mod.nvmlInit = system_fn("nvmlInit", None)  # type: ignore[attr-defined]
    mod.nvmlShutdown = system_fn("nvmlShutdown", None)  # type: ignore[attr-defined]
    if devices:

        def get_handle(index: int) -> Any:
            calls.append("nvmlDeviceGetHandleByIndex")
            return types.SimpleNamespace(index=index)

        mod.nvmlDeviceGetHandleByIndex = get_handle  # type: ignore[attr-defined]
        names = {n for d in devices for n in d}
        for name in names:
            setattr(mod, name, device_fn(name))
    return mod


def build_hung_pynvml(release: threading.Event) -> types.ModuleType:
    """A pynvml whose nvmlInit blocks until `release` is set, like a wedged driver."""
    mod = types.ModuleType("pynvml")
    mod.NVMLError = NVMLError  # type: ignore[attr-defined]

    def nvml_init() -> None:
        release.wait(60)

    mod.nvmlInit = nvml_init  # type: ignore[attr-defined]
    mod.nvmlShutdown = lambda: None  # type: ignore[attr-defined]
    return mod
