"""The `driver` section: NVIDIA driver, the CUDA version it supports, and the GPUs.

The only module that imports pynvml (optional). NVML is read through one
chokepoint (`_Nvml.call`) that turns NVMLError into values and tries the
`_v3`/`_v2` variants first. Without NVML the kernel module version still comes
from /sys/module/nvidia/version or /proc/driver/nvidia/version, and the GPUs
that exist come from PCI sysfs (with the kernel driver bound to each, which
reveals nouveau or vfio-pci).
"""

from __future__ import annotations

import _thread
import os

from envlock.probe._util import read_text
from envlock.probe.libnames import (
    decode_cuda_version,
    library_version_from_path,
    parse_nvrm_version,
)
from envlock.probe.nvml_lib import no_library

# typing is not imported at run time (~3 ms of every container probe).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from envlock.probe.shapes import DriverDoc, FabricDoc, GpuDoc, GpuHealthDoc, PciGpuDoc

    class NvmlResult(DriverDoc, total=False):
        """What query_nvml read: the driver section's NVML keys, and where libnvidia-ml was."""

        library_path: str | None


NVIDIA_PCI_VENDOR = "0x10de"
PCI_ROOT = "/sys/bus/pci/devices"

# NVML return codes we explain to the user: nvmlReturn_t in the NVML API Reference,
# Device Enums (https://docs.nvidia.com/deploy/nvml-api/group__nvmlDeviceEnumvs.html).
_ERR_UNINITIALIZED = 1
_ERR_NOT_SUPPORTED = 3
_ERR_NO_PERMISSION = 4
_ERR_DRIVER_NOT_LOADED = 9
_ERR_LIBRARY_NOT_FOUND = 12
_ERR_FUNCTION_NOT_FOUND = 13
_ERR_GPU_IS_LOST = 15
_ERR_LIB_RM_VERSION_MISMATCH = 18


class NvmlError(Exception):
    """An NVML failure as a value: the numeric code and NVML's own text."""

    def __init__(self, code: int | None, text: str) -> None:
        super().__init__(text)
        self.code = code
        self.text = text


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    value = str(value).strip()
    return value or None


class _Nvml:
    """Lazy NVML session over an nvidia-ml-py style module."""

    def __init__(self, module: Any) -> None:
        self.module = module
        self.initialized = False

    def init(self) -> None:
        self.call("nvmlInit", versions=("_v2", ""))
        self.initialized = True

    def shutdown(self) -> None:
        if self.initialized:
            import contextlib  # here: a served probe without NVML imports none

            with contextlib.suppress(NvmlError):
                self.call("nvmlShutdown", versions=("",))
            self.initialized = False

    def call(self, name: str, *args: Any, versions: tuple[str, ...] = ("_v3", "_v2", "")) -> Any:
        """Call the newest available variant of NVML function `name`; raise NvmlError."""
        error_cls = getattr(self.module, "NVMLError", None)
        last: NvmlError | None = None
        for suffix in versions:
            fn = getattr(self.module, name + suffix, None)
            if fn is None:
                continue
            try:
                return fn(*args)
            except Exception as exc:
                if error_cls is None or not isinstance(exc, error_cls):
                    raise NvmlError(None, f"{type(exc).__name__}: {exc}") from None
                code = getattr(exc, "value", None)
                last = NvmlError(code, _nvml_text(exc))
                if code == _ERR_FUNCTION_NOT_FOUND:
                    continue  # older driver: fall back to the previous variant
                raise last from None
        if last is not None:
            raise last
        raise NvmlError(_ERR_FUNCTION_NOT_FOUND, f"{name} not in this pynvml")

    def value(self, name: str, *args: Any, **kw: Any) -> Any:
        """Like call, but a device that does not support the query yields None."""
        try:
            return self.call(name, *args, **kw)
        except NvmlError as exc:
            if exc.code in (_ERR_NOT_SUPPORTED, _ERR_FUNCTION_NOT_FOUND, _ERR_NO_PERMISSION):
                return None
            raise


def _nvml_text(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception:  # pynvml's __str__ calls into the library, which may be half-loaded
        return type(exc).__name__


def collect(nvml_module: Any = None, nvml_timeout: float = 10.0) -> DriverDoc:
    """The driver section. `nvml_module` replaces `import pynvml` (tests replay recordings)."""
    kernel_version, kernel_source = kernel_module_version()
    nvidia = nvidia_functions(PCI_ROOT)
    out: DriverDoc = {
        "unavailable": None,
        "source": kernel_source,
        "version": kernel_version,
        "nvml_library_version": None,
        "kernel_module_version": kernel_version,
        "nvml_version": None,
        "cuda_version": None,
        "nvml_error": None,
        "gpus": None,
        "device_nodes": device_nodes(),
        "pci_gpus": pci_gpus(PCI_ROOT, nvidia),  # one pass over the bus for both
        "fabric": fabric(PCI_ROOT, nvidia=nvidia),
    }
    box: dict[str, NvmlResult] = {}
    done = _thread.allocate_lock()  # threading (and what it imports) is not a served probe's
    done.acquire()

    def work() -> None:
        try:
            box["result"] = query_nvml(nvml_module)
        except Exception as exc:  # a source never raises; report the bug as the reason
            box["result"] = {"unavailable": f"NVML probe failed: {type(exc).__name__}: {exc}"}
        finally:
            done.release()

    # NVML calls can block for a long time on a wedged driver: bound them here so the
    # file-based facts above still come back.
    _thread.start_new_thread(work, ())
    if not done.acquire(True, nvml_timeout):
        out["unavailable"] = (
            f"NVML did not answer within {nvml_timeout:g} s (nvmlInit or a device query "
            "hung): the driver may be wedged or a GPU fell off the bus; "
            "check `dmesg` for NVRM/Xid errors"
        )
        out["nvml_error"] = "timeout"
        return out
    result = box.get("result", {})
    nvml_keys = result.copy()
    nvml_keys.pop("library_path", None)  # not a fact: only how the library's version is read
    out.update(nvml_keys)
    if result.get("version"):
        out["source"] = "nvml"
    lib_version = library_version_from_path(result.get("library_path"))
    if lib_version and not out.get("nvml_library_version"):
        out["nvml_library_version"] = lib_version
    if out.get("nvml_error") == "NVML_ERROR_LIB_RM_VERSION_MISMATCH" or (
        kernel_version and lib_version and kernel_version != lib_version
    ):
        out["unavailable"] = version_mismatch_reason(kernel_version, out["nvml_library_version"])
    return out


def version_mismatch_reason(kernel: str | None, library: str | None) -> str:
    return (
        "NVIDIA driver/library version mismatch: kernel module {}, libnvidia-ml {}; the driver "
        "was upgraded without reloading the kernel module: reboot (or unload and reload the "
        "nvidia modules)".format(kernel or "unknown", library or "unknown")
    )


def query_nvml(nvml_module: Any = None) -> NvmlResult:
    """Everything NVML says, or `unavailable` with a reason a person can act on."""
    if nvml_module is None:
        if no_library():
            return {
                "unavailable": init_failure_reason(NvmlError(_ERR_LIBRARY_NOT_FOUND, "")),
                "nvml_error": "NVML_ERROR_LIBRARY_NOT_FOUND",
                "library_path": _loaded_nvml_path(),
            }
        try:
            import pynvml as nvml_module  # type: ignore[no-redef]
        except ImportError:
            return {
                "unavailable": "pynvml is not installed in this interpreter "
                "(pip install nvidia-ml-py); driver facts come from /sys and /proc only",
                "nvml_error": "pynvml not installed",
            }
    nvml = _Nvml(nvml_module)
    try:
        nvml.init()
    except NvmlError as exc:
        return {
            "unavailable": init_failure_reason(exc),
            "nvml_error": _error_name(nvml_module, exc.code) or exc.text,
            "library_path": _loaded_nvml_path(),
        }
    try:
        return _read_nvml(nvml)
    finally:
        nvml.shutdown()


def init_failure_reason(exc: NvmlError) -> str:
    if exc.code == _ERR_LIBRARY_NOT_FOUND:
        return (
            "libnvidia-ml.so.1 not found: no NVIDIA driver installed (or, in a container, "
            "the NVIDIA Container Toolkit did not mount it: run with --gpus)"
        )
    if exc.code == _ERR_DRIVER_NOT_LOADED:
        return (
            "NVIDIA driver is installed but its kernel module is not loaded "
            "(modprobe nvidia, or check that Secure Boot did not block it)"
        )
    if exc.code == _ERR_LIB_RM_VERSION_MISMATCH:
        return version_mismatch_reason(None, None)
    if exc.code == _ERR_NO_PERMISSION:
        return "no permission to open /dev/nvidiactl: add the user to the video group"
    return f"nvmlInit failed: {exc.text}"


def _error_name(module: Any, code: int | None) -> str | None:
    if code is None:
        return None
    for name in dir(module):
        if name.startswith("NVML_ERROR_") and getattr(module, name, None) == code:
            return name
    return f"NVML error {code}"


def _read_nvml(nvml: _Nvml) -> NvmlResult:
    out: NvmlResult = {"unavailable": None, "nvml_error": None}
    try:
        out["version"] = _text(nvml.value("nvmlSystemGetDriverVersion", versions=("",)))
        out["nvml_library_version"] = out["version"]
        out["nvml_version"] = _text(nvml.value("nvmlSystemGetNVMLVersion", versions=("",)))
        # _v2 reports LIBRARY_NOT_FOUND without libcuda instead of a made-up version.
        try:
            cuda = nvml.call("nvmlSystemGetCudaDriverVersion", versions=("_v2", ""))
        except NvmlError:
            cuda = None
        out["cuda_version"] = decode_cuda_version(cuda)
        count = nvml.call("nvmlDeviceGetCount", versions=("_v2", ""))
        out["gpus"] = [_read_gpu(nvml, i) for i in range(int(count))]
    except NvmlError as exc:
        out["unavailable"] = f"NVML query failed: {exc.text}"
        out["nvml_error"] = _error_name(nvml.module, exc.code) or exc.text
    out["library_path"] = _loaded_nvml_path()
    return out


def _read_gpu(nvml: _Nvml, index: int) -> GpuDoc:
    gpu: GpuDoc = {"index": index}
    try:
        handle = nvml.call("nvmlDeviceGetHandleByIndex", index, versions=("_v2", ""))
    except NvmlError as exc:
        gpu["name"] = None
        gpu["brand"] = None
        if exc.code == _ERR_GPU_IS_LOST:
            gpu["name"] = "GPU is lost (fell off the bus)"
        lost = exc.code == _ERR_GPU_IS_LOST
        handle_return = exc.code if exc.code is not None else -1
        gpu["health"] = {"lost": lost, "returns": {"nvmlDeviceGetHandleByIndex": handle_return}}
        return gpu
    gpu["name"] = _text(_quiet(nvml, "nvmlDeviceGetName", handle))
    gpu["uuid"] = _text(_quiet(nvml, "nvmlDeviceGetUUID", handle))
    pci = _quiet(nvml, "nvmlDeviceGetPciInfo", handle)
    gpu["pci_bus_id"] = normalize_bus_id(_text(getattr(pci, "busId", None)))
    cap = _quiet(nvml, "nvmlDeviceGetCudaComputeCapability", handle)
    gpu["compute_capability"] = f"{cap[0]}.{cap[1]}" if cap else None
    mem = _quiet(nvml, "nvmlDeviceGetMemoryInfo", handle, versions=("",))
    total = getattr(mem, "total", None)
    gpu["memory_total_bytes"] = int(total) if total is not None else None
    gpu["mig_mode"] = _mode(_quiet(nvml, "nvmlDeviceGetMigMode", handle))
    gpu["ecc_mode"] = _mode(_quiet(nvml, "nvmlDeviceGetEccMode", handle))
    persistence = _quiet(nvml, "nvmlDeviceGetPersistenceMode", handle)
    gpu["persistence_mode"] = bool(persistence) if persistence is not None else None
    gpu["brand"] = _brand_name(nvml.module, _quiet(nvml, "nvmlDeviceGetBrand", handle))
    gpu["compute_mode"] = _COMPUTE_MODES.get(_quiet(nvml, "nvmlDeviceGetComputeMode", handle))
    gpu["health"] = _health(nvml, handle)
    return gpu


# NVML API Reference (https://docs.nvidia.com/deploy/nvml-api/): nvmlMemoryErrorType_t
# NVML_MEMORY_ERROR_TYPE_UNCORRECTED = 1, nvmlEccCounterType_t NVML_VOLATILE_ECC = 0,
# nvmlPageRetirementCause_t NVML_PAGE_RETIREMENT_CAUSE_DOUBLE_BIT_ECC_ERROR = 1,
# nvmlGpuFabricState_t NVML_GPU_FABRIC_STATE_NOT_SUPPORTED 0 .. _COMPLETED 3.
_UNCORRECTED, _VOLATILE, _DOUBLE_BIT = 1, 0, 1
_FABRIC_STATES = {0: "not_supported", 1: "not_started", 2: "in_progress", 3: "completed"}


def _health(nvml: _Nvml, handle: Any) -> GpuHealthDoc:
    """What an expert reads first: ECC, row remapping, page retirement, the fabric; each
    query's nvmlReturn_t kept (0 = success), so "not read" is never "healthy"."""
    returns: dict[str, int] = {}

    def ask(name: str, *args: Any) -> Any:
        try:
            value = nvml.call(name, handle, *args, versions=("",))
        except NvmlError as exc:
            returns[name] = exc.code if exc.code is not None else -1
            return None
        returns[name] = 0
        return value

    ecc = ask("nvmlDeviceGetTotalEccErrors", _UNCORRECTED, _VOLATILE)
    # (corrRows, uncRows, isPending, failureOccurred)
    rows = ask("nvmlDeviceGetRemappedRows")
    rows = rows if isinstance(rows, (list, tuple)) and len(rows) == 4 else None
    pending = ask("nvmlDeviceGetRetiredPagesPendingStatus")
    pages = ask("nvmlDeviceGetRetiredPages", _DOUBLE_BIT)
    info_cls = getattr(nvml.module, "c_nvmlGpuFabricInfo_t", None)
    info = info_cls() if info_cls is not None else None
    fabric_ok = info is not None and ask("nvmlDeviceGetGpuFabricInfo", info) is not None
    state = _int(getattr(info, "state", None)) if fabric_ok else None
    return {
        "lost": False,
        "ecc_volatile_uncorrected": _int(ecc),
        "remapped_rows_uncorrectable": _int(rows[1]) if rows else None,
        "remap_pending": bool(rows[2]) if rows else None,
        "remap_failed": bool(rows[3]) if rows else None,
        "retired_pages_pending": bool(pending) if pending is not None else None,
        "retired_pages_dbe": len(pages) if isinstance(pages, (list, tuple)) else None,
        "fabric_state": None if state is None else _FABRIC_STATES.get(state, f"state {state}"),
        "fabric_status": _int(getattr(info, "status", None)) if fabric_ok else None,
        "returns": returns,
    }


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None


# nvmlComputeMode_t: NVML_COMPUTEMODE_DEFAULT 0, _EXCLUSIVE_THREAD 1, _PROHIBITED 2,
# _EXCLUSIVE_PROCESS 3 (nvml.h)
_COMPUTE_MODES = {0: "default", 1: "exclusive_thread", 2: "prohibited", 3: "exclusive_process"}


def _quiet(nvml: _Nvml, name: str, *args: Any, **kw: Any) -> Any:
    # One unsupported or failing per-device query must not cost the other facts.
    try:
        return nvml.value(name, *args, **kw)
    except NvmlError:
        return None


def _mode(value: Any) -> bool | None:
    """(current, pending) pairs from NVML -> current state as a bool."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
    return bool(value) if value is not None else None


def _brand_name(module: Any, value: Any) -> str | None:
    if value is None:
        return None
    for name in dir(module):
        brand = name.startswith("NVML_BRAND_") and name != "NVML_BRAND_COUNT"
        if brand and getattr(module, name, None) == value:
            return name[len("NVML_BRAND_") :].lower()
    return str(value)


def normalize_bus_id(bus_id: str | None) -> str | None:
    """NVML's 8-digit-domain bus id ("00000000:42:00.0") -> sysfs form ("0000:42:00.0")."""
    if not bus_id:
        return None
    import re  # here, as in the other parsers: a probe that finds no GPU imports no re

    m = re.match(r"^([0-9a-fA-F]+):([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\.([0-7])$", bus_id)
    if not m:
        return bus_id
    domain = int(m.group(1), 16)
    return f"{domain:04x}:{m.group(2).lower()}:{m.group(3).lower()}.{m.group(4)}"


def kernel_module_version(
    sys_path: str = "/sys/module/nvidia/version", proc_path: str = "/proc/driver/nvidia/version"
) -> tuple[str | None, str | None]:
    """(version, "sysfs"|"procfs") of the loaded nvidia kernel module; (None, None) if none."""
    text = read_text(sys_path, 256)
    if text and text.strip():
        return text.strip(), "sysfs"
    version = parse_nvrm_version(read_text(proc_path, 4096) or "")
    return (version, "procfs") if version else (None, None)


def _loaded_nvml_path() -> str | None:
    text = read_text("/proc/self/maps") or ""
    for line in text.splitlines() if "libnvidia-ml.so" in text else ():
        parts = line.split(None, 5)
        if len(parts) == 6 and "libnvidia-ml.so" in parts[5]:
            return parts[5].strip()
    return None


def nvidia_functions(root: str = PCI_ROOT) -> list[tuple[str, str]]:
    """(bus id, PCI class) of each NVIDIA function on the bus, in bus order: each device's
    vendor read once (a GPU node has a hundred or more PCI functions, read every run)."""
    found: list[tuple[str, str]] = []
    try:
        entries = sorted(os.listdir(root))
    except OSError:
        return found
    for bus_id in entries:
        dev = os.path.join(root, bus_id)
        vendor = (read_text(os.path.join(dev, "vendor"), 64) or "").strip().lower()
        if vendor == NVIDIA_PCI_VENDOR:
            pci_class = (read_text(os.path.join(dev, "class"), 64) or "").strip().lower()
            found.append((bus_id, pci_class))
    return found


def fabric(
    root: str = PCI_ROOT, proc: str = "/proc", nvidia: list[tuple[str, str]] | None = None
) -> FabricDoc:
    """NVSwitches on the PCI bus (NVIDIA bridges, class 0x0680) and, where there are
    any, whether nv-fabricmanager runs: its process is visible in /proc without root.
    `nvidia`: nvidia_functions(root), when already read."""
    functions = nvidia_functions(root) if nvidia is None else nvidia
    count = sum(pci_class.startswith("0x0680") for _, pci_class in functions)
    return {
        "nvswitch_count": count,
        "manager_running": fabric_manager_running(proc) if count else None,
    }


def fabric_manager_running(proc: str = "/proc") -> bool | None:
    """True: a process named nv-fabricmanager; False: none in the host's process list;
    None: this /proc is a container's own (pid 1 is not an init), which cannot say."""
    comms = []
    try:
        for pid in os.listdir(proc)[:100000]:
            if pid.isdigit():
                comms.append((read_text(os.path.join(proc, pid, "comm"), 64) or "").strip())
    except OSError:
        pass
    if any(c.startswith("nv-fabricmanage") for c in comms):  # comm is cut at 15 characters
        return True
    init = (read_text(os.path.join(proc, "1", "comm"), 64) or "").strip()
    return False if init in ("systemd", "init") else None


def device_nodes(dev: str = "/dev") -> list[str]:
    """/dev/nvidia*, as glob.glob found them (no such name is hidden), without glob."""
    try:
        names = os.listdir(dev)
    except OSError:
        return []
    return sorted(os.path.join(dev, n) for n in names if n.startswith("nvidia"))


def pci_gpus(root: str = PCI_ROOT, nvidia: list[tuple[str, str]] | None = None) -> list[PciGpuDoc]:
    """NVIDIA display/3D controllers on the PCI bus and the kernel driver bound to each.
    `nvidia`: nvidia_functions(root), when already read."""
    found: list[PciGpuDoc] = []
    for bus_id, pci_class in nvidia_functions(root) if nvidia is None else nvidia:
        dev = os.path.join(root, bus_id)
        if not pci_class.startswith("0x03"):  # skip NVSwitch bridges and audio functions
            continue
        driver_link = os.path.join(dev, "driver")
        driver = None
        if os.path.islink(driver_link):
            driver = os.path.basename(os.readlink(driver_link))
        device_id = (read_text(os.path.join(dev, "device"), 64) or "").strip().lower() or None
        found.append({"bus_id": bus_id, "device_id": device_id, "driver": driver})
    return found
