"""The driver section from NVML replays (fake pynvml at the adapter boundary) and /sys, /proc."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from envlock.facts import DriverFacts, Facts
from envlock.probe import nvml, probe_host
from tests.conftest import load_fixture_json

from .fakes import build_fake_pynvml, build_hung_pynvml

DATA = Path(__file__).parent / "data"


def _as_facts(driver: dict[str, Any]) -> DriverFacts:
    doc = {"facts_version": 1, "meta": {"envlock_version": "t", "collected_at": "t"}}
    return Facts.from_dict({**doc, "driver": driver}).driver


def test_h100_driver_580_replay_gives_driver_cuda_and_gpu_facts() -> None:
    fake = build_fake_pynvml(load_fixture_json("nvml.h100-driver-580.json")["nvml"])
    driver = _as_facts(nvml.collect(nvml_module=fake))
    assert driver.unavailable is None
    assert driver.source == "nvml"
    assert driver.version == "580.65.06"
    assert driver.nvml_library_version == "580.65.06"
    assert driver.cuda_version == "13.0"
    assert driver.nvml_error is None
    assert driver.gpus is not None and len(driver.gpus) == 1
    gpu = driver.gpus[0]
    assert gpu.index == 0
    assert gpu.name == "NVIDIA H100 80GB HBM3"
    assert gpu.compute_capability == "9.0"
    assert gpu.memory_total_bytes == 81559 * 2**20
    assert gpu.pci_bus_id == "0000:42:00.0"
    assert (gpu.mig_mode, gpu.ecc_mode, gpu.persistence_mode) == (True, True, False)
    # Not in the published recording: unknown, not invented.
    assert gpu.uuid is None and gpu.brand is None
    # The _v2 query is preferred (v1 makes up a version without libcuda), and NVML is shut down.
    assert "nvmlSystemGetCudaDriverVersion_v2" in fake.calls
    assert fake.calls[-1] == "nvmlShutdown"


def test_nvml_missing_replay_is_an_actionable_unavailable_reason() -> None:
    fake = build_fake_pynvml(load_fixture_json("nvml.no-driver.json")["nvml"])
    driver = _as_facts(nvml.collect(nvml_module=fake))
    assert driver.unavailable is not None
    assert driver.unavailable.startswith("libnvidia-ml.so.1 not found: no NVIDIA driver installed")
    assert driver.nvml_error == "NVML_ERROR_LIBRARY_NOT_FOUND"
    assert driver.gpus is None  # not observed, which is not the same as "no GPUs"
    assert driver.cuda_version is None


def test_real_pynvml_on_this_driverless_machine_matches_the_recording() -> None:
    pynvml = pytest.importorskip("pynvml")
    if Path("/proc/driver/nvidia/version").exists():
        pytest.skip("this machine has an NVIDIA driver; the recording is of one without")
    real = nvml.query_nvml(pynvml)
    replay = nvml.query_nvml(build_fake_pynvml(load_fixture_json("nvml.no-driver.json")["nvml"]))
    assert real["unavailable"] == replay["unavailable"]
    assert real["nvml_error"] == replay["nvml_error"] == "NVML_ERROR_LIBRARY_NOT_FOUND"


def test_a_hung_nvml_init_ends_in_a_reason_not_a_hang() -> None:
    release = threading.Event()
    try:
        t0 = time.monotonic()
        driver = nvml.collect(nvml_module=build_hung_pynvml(release), nvml_timeout=0.5)
        elapsed = time.monotonic() - t0
    finally:
        release.set()
    assert elapsed < 3
    assert "NVML did not answer within 0.5 s" in driver["unavailable"]
    assert driver["nvml_error"] == "timeout"
    _as_facts(driver)


def test_probe_host_survives_a_hung_pynvml(monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()
    monkeypatch.setitem(sys.modules, "pynvml", build_hung_pynvml(release))
    try:
        t0 = time.monotonic()
        facts = probe_host(torch_live=False, timeout=2.0)
        elapsed = time.monotonic() - t0
    finally:
        release.set()
    assert elapsed < 4
    assert "NVML did not answer" in facts["driver"]["unavailable"]
    assert facts["system"]["unavailable"] is None
    assert facts["meta"]["durations_ms"]["driver"] >= 1000
    Facts.from_dict(facts)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(12040, "12.4"), (13000, "13.0"), (12080, "12.8"), (9020, "9.2"), (0, None), (None, None)],
)
def test_decode_cuda_version(value: Any, expected: str | None) -> None:
    assert nvml.decode_cuda_version(value) == expected


def test_v1_fallback_when_the_v2_function_is_missing_from_the_driver() -> None:
    recording = load_fixture_json("nvml.h100-driver-580.json")["nvml"]
    # An older driver: the _v2 entry point is absent (FUNCTION_NOT_FOUND) and v1 answers.
    recording["nvmlSystemGetCudaDriverVersion_v2"] = {"raise": 13, "text": "Function Not Found"}
    recording["nvmlSystemGetCudaDriverVersion"] = 12040
    driver = nvml.collect(nvml_module=build_fake_pynvml(recording))
    assert driver["cuda_version"] == "12.4"


def test_version_mismatch_on_init_names_the_fix() -> None:
    recording = {"nvmlInit": {"raise": 18, "text": "Driver/library version mismatch"}}
    driver = nvml.collect(nvml_module=build_fake_pynvml(recording))
    assert driver["nvml_error"] == "NVML_ERROR_LIB_RM_VERSION_MISMATCH"
    assert "version mismatch" in driver["unavailable"] and "reboot" in driver["unavailable"]


def test_version_mismatch_reason_carries_both_versions() -> None:
    text = nvml.version_mismatch_reason("570.133.20", "580.65.06")
    assert "kernel module 570.133.20" in text and "libnvidia-ml 580.65.06" in text


@pytest.mark.parametrize(
    ("blob", "expected"),
    [
        ("procfs-nvidia-version.open-580.txt", "580.95.05"),
        ("procfs-nvidia-version.proprietary-515.txt", "515.76"),
    ],
)
def test_kernel_module_version_from_recorded_procfs(blob: str, expected: str) -> None:
    missing = str(DATA / "no-such-sysfs-file")
    assert nvml.kernel_module_version(missing, str(DATA / blob)) == (expected, "procfs")


def test_sysfs_module_version_wins_over_procfs(tmp_path: Path) -> None:
    sysfs = tmp_path / "version"
    sysfs.write_text("580.65.06\n")
    procfs = str(DATA / "procfs-nvidia-version.open-580.txt")
    assert nvml.kernel_module_version(str(sysfs), procfs) == ("580.65.06", "sysfs")


def test_no_kernel_module_on_this_machine_gives_none() -> None:
    if Path("/proc/driver/nvidia/version").exists():
        pytest.skip("this machine has an NVIDIA driver")
    assert nvml.kernel_module_version() == (None, None)


def test_parse_nvrm_version_ignores_other_lines() -> None:
    assert nvml.parse_nvrm_version("GCC version:  gcc version 13.3.0\n") is None


def test_library_version_from_the_resolved_soname() -> None:
    path = "/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.580.65.06"
    assert nvml.library_version_from_path(path) == "580.65.06"
    assert nvml.library_version_from_path("/usr/lib/libnvidia-ml.so.1") is None


def test_normalize_bus_id() -> None:
    assert nvml.normalize_bus_id("00000000:42:00.0") == "0000:42:00.0"
    assert nvml.normalize_bus_id("00000001:C8:00.0") == "0001:c8:00.0"
    assert nvml.normalize_bus_id(None) is None


def _pci(root: Path, bus: str, vendor: str, pci_class: str, driver: str | None) -> None:
    dev = root / "devices" / bus
    dev.mkdir(parents=True)
    (dev / "vendor").write_text(vendor + "\n")
    (dev / "class").write_text(pci_class + "\n")
    (dev / "device").write_text("0x2330\n")
    if driver:
        target = root / "drivers" / driver
        target.mkdir(parents=True, exist_ok=True)
        (dev / "driver").symlink_to(target)


def test_pci_gpus_reports_the_bound_kernel_driver(tmp_path: Path) -> None:
    _pci(tmp_path, "0000:42:00.0", "0x10de", "0x030200", "nouveau")
    _pci(tmp_path, "0000:43:00.0", "0x10de", "0x030200", None)
    _pci(tmp_path, "0000:44:00.0", "0x10de", "0x068000", "nvidia")  # NVSwitch bridge
    _pci(tmp_path, "0000:00:02.0", "0x8086", "0x030000", "i915")
    gpus = nvml.pci_gpus(str(tmp_path / "devices"))
    assert gpus == [
        {"bus_id": "0000:42:00.0", "device_id": "0x2330", "driver": "nouveau"},
        {"bus_id": "0000:43:00.0", "device_id": "0x2330", "driver": None},
    ]


def test_this_machine_has_no_nvidia_device_nodes_or_pci_gpus() -> None:
    if Path("/dev/nvidiactl").exists():
        pytest.skip("this machine has an NVIDIA driver")
    assert nvml.device_nodes() == []
    assert nvml.pci_gpus() == []


def _nvml_loadable() -> bool:
    import ctypes

    try:
        ctypes.CDLL("libnvidia-ml.so.1")
    except OSError:
        return False
    return True


def test_no_libnvidia_ml_answers_as_pynvml_would_without_importing_it() -> None:
    """pynvml costs 50-130 ms to import; where the library it would load is absent, its
    answer is known (LIBRARY_NOT_FOUND): the same result, with pynvml never imported."""
    import json
    import subprocess

    pynvml = pytest.importorskip("pynvml")
    if _nvml_loadable():
        pytest.skip("libnvidia-ml.so.1 loads here: NVML itself is asked")
    code = (
        "import json, sys\n"
        "from envlock.probe import nvml\n"
        "print(json.dumps([nvml.query_nvml(), 'pynvml' in sys.modules]))\n"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root
    )
    result, imported = json.loads(out.stdout)
    assert not imported
    assert result == nvml.query_nvml(pynvml)


def test_no_libnvidia_ml_is_known_without_importing_ctypes() -> None:
    """Where no libnvidia-ml.so.1 loads, the driver section answers without the ctypes
    package (~3 ms of every warm verify and doctor): the same dlopen, through _ctypes."""
    import subprocess

    if _nvml_loadable():
        pytest.skip("libnvidia-ml.so.1 loads here: pynvml imports ctypes anyway")
    code = (
        "import sys\n"
        "from envlock.probe import nvml\n"
        "driver = nvml.collect()\n"
        "print(driver['nvml_error'], 'ctypes' in sys.modules)\n"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root
    )
    assert out.stdout.split() == ["NVML_ERROR_LIBRARY_NOT_FOUND", "False"]


@pytest.mark.parametrize("name", ["libc.so.6", "libm.so.6", "libnvidia-ml.so.1", "libnope.so.9"])
def test_the_dlopen_it_does_is_ctypes_cdlls(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """no_library() asks the loader exactly as ctypes.CDLL (pynvml's call) would: a
    library CDLL loads is there for it, one CDLL cannot load is not."""
    import ctypes
    import importlib.util

    from envlock.probe import nvml_lib

    calls: list[tuple[str, int]] = []
    import _ctypes

    real = _ctypes.dlopen

    def spy(lib: str, mode: int) -> int:
        calls.append((lib, mode))
        return real(name, mode)  # the library under test in libnvidia-ml's place

    monkeypatch.setattr(_ctypes, "dlopen", spy)
    try:
        ctypes.CDLL(name)
        loads = True
    except OSError:
        loads = False
    calls.clear()
    monkeypatch.delitem(sys.modules, "pynvml", raising=False)
    absent = nvml_lib.no_library()
    assert calls == [("libnvidia-ml.so.1", ctypes.DEFAULT_MODE)]
    if loads:
        assert not absent
    else:  # pynvml's answer is known only where pynvml is installed
        assert absent == (importlib.util.find_spec("pynvml") is not None)


def test_the_driver_section_reads_each_pci_device_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A GPU node's bus holds a hundred or more functions and the driver section reads it
    fresh every run: one pass (each vendor once, a class only for NVIDIA's) gives both the
    GPUs and the NVSwitches, the same as each read alone."""
    devices = tmp_path / "devices"
    layout = {f"0000:{n:02x}:00.0": ("0x8086", "0x060400") for n in range(100)}
    layout |= {"0000:42:00.0": ("0x10de", "0x030200"), "0000:43:00.0": ("0x10de", "0x068000")}
    layout["0000:44:00.1"] = ("0x10de", "0x040300")  # a GPU's audio function
    for bus_id, (vendor, pci_class) in layout.items():
        (devices / bus_id).mkdir(parents=True)
        (devices / bus_id / "vendor").write_text(vendor + "\n")
        (devices / bus_id / "class").write_text(pci_class + "\n")
    (tmp_path / "proc" / "1").mkdir(parents=True)
    (tmp_path / "proc" / "1" / "comm").write_text("systemd\n")
    alone = (nvml.pci_gpus(str(devices)), nvml.fabric(str(devices), str(tmp_path / "proc")))
    read: list[str] = []
    real = nvml.read_text

    def counted(path: str, *args: Any) -> str | None:
        read.append(path)
        return real(path, *args)

    monkeypatch.setattr(nvml, "PCI_ROOT", str(devices))
    monkeypatch.setattr(nvml, "read_text", counted)
    monkeypatch.setattr(nvml, "fabric_manager_running", lambda proc="/proc": False)
    no_driver = build_fake_pynvml(load_fixture_json("nvml.no-driver.json")["nvml"])
    driver = nvml.collect(nvml_module=no_driver, nvml_timeout=5)
    assert (driver["pci_gpus"], driver["fabric"]) == alone
    under = [p for p in read if p.startswith(str(devices))]
    assert len(under) == len(layout) + 3 + 1  # vendors, NVIDIA's classes, the GPU's device
