"""Record what the real pynvml answers, in the replay format of tests/probe/fakes.py.

A proxy module over the real pynvml: every `nvml*` function the probe calls is
passed through, and its answer (or NVMLError) written down under the exact name
called, per device for functions that take a handle. ctypes structures become
dicts of their fields, (current, pending) pairs lists, bytes text. A device
function's other arguments key its answer ({"by_args": {"1,0": ...}}), and a
structure it fills is recorded as filled ({"fills": {...}}), as tests/probe/fakes.py
replays them. Handles are
not recorded: the fake makes its own (`nvmlDeviceGetHandleByIndex`). The brand
constants go under "constants" so that a replay names the brand as the real
module does.
"""

from __future__ import annotations

import ctypes
import threading
import types
from typing import Any

_HANDLE_GETTERS = ("nvmlDeviceGetHandleByIndex", "nvmlDeviceGetHandleByIndex_v2")
_NOT_RECORDED = ("nvmlInit", "nvmlInit_v2", "nvmlShutdown")


def plain(value: Any) -> Any:
    """A pynvml answer as JSON data."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, ctypes.Structure):
        return {name: plain(getattr(value, name)) for name, *_ in value._fields_}
    if isinstance(value, types.SimpleNamespace):  # a replayed answer, recorded again
        return {name: plain(v) for name, v in vars(value).items()}
    if isinstance(value, ctypes.Array):
        return [plain(v) for v in value]
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


class RecordingNvml:
    def __init__(self, real: Any) -> None:
        self._real = real
        self._lock = threading.Lock()
        self._handles: dict[int, int] = {}
        self.NVMLError = real.NVMLError
        self.recording: dict[str, Any] = {
            "constants": {
                name: getattr(real, name) for name in dir(real) if name.startswith("NVML_BRAND_")
            },
            "devices": [],
        }

    def __dir__(self) -> list[str]:
        return dir(self._real)

    def __getattr__(self, name: str) -> Any:
        real_fn = getattr(self._real, name)  # AttributeError: absent here, as in the replay
        if not name.startswith("nvml") or not callable(real_fn):
            return real_fn
        if name in _HANDLE_GETTERS:
            return self._handle_getter(real_fn)
        if name in _NOT_RECORDED:
            return real_fn
        return self._recorded(name, real_fn)

    def _handle_getter(self, real_fn: Any) -> Any:
        def get(index: int) -> Any:
            handle = real_fn(index)
            with self._lock:
                self._handles[id(handle)] = index
                devices = self.recording["devices"]
                while len(devices) <= index:
                    devices.append({})
            return _Handle(handle, index)

        return get

    def _recorded(self, name: str, real_fn: Any) -> Any:
        def call(*args: Any) -> Any:
            device = args[0].index if args and isinstance(args[0], _Handle) else None
            real_args = tuple(a.handle if isinstance(a, _Handle) else a for a in args)
            try:
                value = real_fn(*real_args)
            except self._real.NVMLError as exc:
                self._store(device, name, {"raise": exc.value, "text": _text(exc)}, args)
                raise
            filled = [a for a in real_args if isinstance(a, ctypes.Structure)]
            self._store(
                device, name, {"fills": plain(filled[-1])} if filled else plain(value), args
            )
            return value

        return call

    def _store(self, device: int | None, name: str, answer: Any, args: tuple[Any, ...]) -> None:
        with self._lock:
            if device is None:
                self.recording[name] = answer
                return
            extra = [a for a in args[1:] if isinstance(a, (int, str))]
            if not extra or (isinstance(answer, dict) and "fills" in answer):
                self.recording["devices"][device][name] = answer
                return
            by_args = self.recording["devices"][device].setdefault(name, {"by_args": {}})
            by_args["by_args"][",".join(str(a) for a in extra)] = answer


class _Handle:
    """A real handle and the index it was asked for (the fake's handles carry `.index`)."""

    def __init__(self, handle: Any, index: int) -> None:
        self.handle = handle
        self.index = index


def _text(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception:
        return type(exc).__name__
