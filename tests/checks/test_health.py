"""Health an expert checks first (issue 21 item 5): each check fires on a case and stays
quiet on another, both built by editing the recorded H100 NVML answers
(tests/fixtures/nvml.h100-driver-580.json) and replaying them through the real probe
(envlock.probe.nvml with the fake pynvml of tests/probe/fakes.py).

Each edit writes an answer in the form the NVML API Reference documents it
(https://docs.nvidia.com/deploy/nvml-api/), cited beside it: the edge cases (NOT_STARTED,
a failed remap, a pre-Ampere page retirement, a volatile ECC count) no public recording
shows. tests/checks/test_health_recorded.py replays faulty and healthy GPUs RECORDED by
`nvidia-smi -q` on real systems; benchmarks/gpu_truth.sh records these same functions
on a real GPU.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from envlock.checks import run_checks
from envlock.facts import FabricFacts, Facts, RequiresFacts
from envlock.findings import Finding, Severity
from envlock.probe import nvml, packages
from tests.conftest import VENV_ROOT, load_fixture_json
from tests.facts_builders import cuda_venv, edit, h100_host
from tests.probe.fakes import build_fake_pynvml

Device = dict[str, Any]

# nvmlReturn_t (Device Enums): NVML_ERROR_NOT_SUPPORTED 3, NVML_ERROR_GPU_IS_LOST 15.
NOT_SUPPORTED, GPU_IS_LOST = 3, 15


def _recording(edit_device: Callable[[Device], None]) -> dict[str, Any]:
    recording: dict[str, Any] = load_fixture_json("nvml.h100-driver-580.json")["nvml"]
    edit_device(recording["devices"][0])
    return recording


def _host(edit_device: Callable[[Device], None], **driver_changes: object) -> Facts:
    """h100_host() with GPU 0 as the probe reads it from the edited recording."""
    driver_doc = nvml.collect(nvml_module=build_fake_pynvml(_recording(edit_device)))
    doc = {"facts_version": 1, "meta": {"envlock_version": "t", "collected_at": "t"}}
    replayed = Facts.from_dict({**doc, "driver": driver_doc}).driver
    base = h100_host()
    assert replayed.gpus and base.driver.gpus
    gpus = [dataclasses.replace(g, uuid=base.driver.gpus[0].uuid) for g in replayed.gpus]
    driver = dataclasses.replace(base.driver, gpus=gpus, **driver_changes)  # type: ignore[arg-type]
    return edit(base, "driver", driver)


def _one(facts: Facts, check_id: str) -> Finding | None:
    found = [f for f in run_checks(facts) if f.check_id == check_id]
    assert len(found) <= 1
    return found[0] if found else None


def _healthy(device: Device) -> None:
    """An H100 whose health queries all answer 'nothing wrong', each in its documented form."""
    # nvmlDeviceGetTotalEccErrors(device, errorType, counterType, *eccCounts):
    # NVML_MEMORY_ERROR_TYPE_UNCORRECTED = 1, NVML_VOLATILE_ECC = 0 -> unsigned long long
    device["nvmlDeviceGetTotalEccErrors"] = {"by_args": {"1,0": 0}}
    # nvmlDeviceGetRemappedRows(device, *corrRows, *uncRows, *isPending, *failureOccurred)
    device["nvmlDeviceGetRemappedRows"] = [0, 0, 0, 0]
    # nvmlDeviceGetRetiredPagesPendingStatus: Kepler-Volta only; NOT_SUPPORTED on Ampere+
    device["nvmlDeviceGetRetiredPagesPendingStatus"] = {"raise": NOT_SUPPORTED, "text": "x"}
    device["nvmlDeviceGetRetiredPages"] = {"raise": NOT_SUPPORTED, "text": "Not Supported"}
    # nvmlDeviceGetGpuFabricInfo(device, *gpuFabricInfo): nvmlGpuFabricInfo_t
    # {clusterUuid, status (nvmlReturn_t), cliqueId, state}; NVML_GPU_FABRIC_STATE_COMPLETED 3
    device["nvmlDeviceGetGpuFabricInfo"] = {"fills": {"state": 3, "status": 0, "cliqueId": 0}}
    device["nvmlDeviceGetMigMode"] = [0, 0]  # NVML_DEVICE_MIG_DISABLE 0 (current, pending)


def _then(*edits: Callable[[Device], None]) -> Callable[[Device], None]:
    def apply(device: Device) -> None:
        _healthy(device)
        for e in edits:
            e(device)

    return apply


def test_health_is_read_from_the_replayed_answers() -> None:
    gpu = _host(_healthy).driver.gpus[0]  # type: ignore[index]
    assert gpu.health is not None
    assert gpu.health.ecc_volatile_uncorrected == 0
    assert (gpu.health.remap_pending, gpu.health.remap_failed) == (False, False)
    assert gpu.health.retired_pages_pending is None  # not supported: unknown, not healthy
    assert gpu.health.fabric_state == "completed" and gpu.health.fabric_status == 0
    assert gpu.health.returns["nvmlDeviceGetRetiredPagesPendingStatus"] == NOT_SUPPORTED
    assert gpu.health.returns["nvmlDeviceGetTotalEccErrors"] == 0


def test_the_published_recording_has_no_health_answers_and_reads_as_unknown() -> None:
    """The H100 recording predates these queries: each is 'not in this pynvml' (13)."""
    health = h100_host().driver.gpus[0].health  # type: ignore[index]
    assert health is not None and health.ecc_volatile_uncorrected is None
    assert set(health.returns.values()) == {13}


def test_the_healthy_h100_raises_no_health_finding() -> None:
    ids = {f.check_id for f in run_checks(_host(_healthy))}
    assert not ids & {
        "EL-GPU-LOST",
        "EL-GPU-ECC-UNCORRECTED",
        "EL-GPU-MEMORY-REPAIR-PENDING",
        "EL-MIG-NO-DEVICE",
        "EL-FABRIC-MANAGER",
    }


# ------------------------------------------------------------------ GPU lost
def test_a_gpu_fallen_off_the_bus_is_an_error() -> None:
    # nvmlDeviceGetHandleByIndex_v2 returns NVML_ERROR_GPU_IS_LOST for a GPU that fell off
    recording = _recording(_healthy)
    # (the probe asks for the _v2 entry point first, as nvidia-ml-py does)
    recording["nvmlDeviceGetHandleByIndex_v2"] = {"raise": GPU_IS_LOST, "text": "GPU is lost"}
    fake = build_fake_pynvml(recording)
    driver_doc = nvml.collect(nvml_module=fake)
    doc = {"facts_version": 1, "meta": {"envlock_version": "t", "collected_at": "t"}}
    lost = Facts.from_dict({**doc, "driver": driver_doc}).driver
    facts = edit(h100_host(), "driver", lost)
    finding = _one(facts, "EL-GPU-LOST")
    assert finding is not None and finding.severity is Severity.ERROR
    assert "fell off the bus" in finding.message and "reboot" in (finding.fix or "")
    assert _one(_host(_healthy), "EL-GPU-LOST") is None


# ------------------------------------------------------------------ ECC
def test_volatile_uncorrectable_ecc_errors_fire_and_zero_does_not() -> None:
    def ecc(device: Device) -> None:
        device["nvmlDeviceGetTotalEccErrors"] = {"by_args": {"1,0": 2}}

    finding = _one(_host(_then(ecc)), "EL-GPU-ECC-UNCORRECTED")
    assert finding is not None and finding.severity is Severity.ERROR
    assert "(2)" in finding.message and "nvidia-smi -r -i 0" in (finding.fix or "")
    assert _one(_host(_healthy), "EL-GPU-ECC-UNCORRECTED") is None


# ------------------------------------------------------------------ row remap / retired pages
@pytest.mark.parametrize(
    ("answer", "says"),
    [
        ({"nvmlDeviceGetRemappedRows": [0, 1, 1, 0]}, "waits for a GPU reset"),
        # NVML_FEATURE_ENABLED 1: a page retirement is pending (Kepler-Volta)
        ({"nvmlDeviceGetRetiredPagesPendingStatus": 1}, "waits for a GPU reset"),
        ({"nvmlDeviceGetRemappedRows": [0, 8, 0, 1]}, "a row remap failed"),
    ],
)
def test_pending_or_failed_memory_repairs_fire(answer: Device, says: str) -> None:
    finding = _one(_host(_then(lambda d: d.update(answer))), "EL-GPU-MEMORY-REPAIR-PENDING")
    assert finding is not None and says in finding.message
    assert "nvidia-smi -r -i 0" in (finding.fix or "") or "RMA" in (finding.fix or "")


def test_remapped_rows_already_applied_are_quiet() -> None:
    # rows remapped earlier and active after a reset: nothing pending, nothing failed
    applied = _then(lambda d: d.update({"nvmlDeviceGetRemappedRows": [3, 2, 0, 0]}))
    assert _one(_host(applied), "EL-GPU-MEMORY-REPAIR-PENDING") is None


# ------------------------------------------------------------------ MIG
def _no_torch_device(f: Facts) -> Facts:
    live = f.torch.live
    assert live is not None
    return edit(f, "torch.live", dataclasses.replace(live, cuda_available=False, device_count=0))


def _mig_on(device: Device) -> None:
    device["nvmlDeviceGetMigMode"] = [1, 1]  # NVML_DEVICE_MIG_ENABLE (current, pending)


def test_mig_enabled_with_a_gpu_index_in_visible_devices_is_an_error() -> None:
    facts = _no_torch_device(_host(_then(_mig_on)))
    facts = edit(facts, "env.variables", {**facts.env.variables, "CUDA_VISIBLE_DEVICES": "0"})
    finding = _one(facts, "EL-MIG-NO-DEVICE")
    assert finding is not None and finding.severity is Severity.ERROR
    assert "CUDA_VISIBLE_DEVICES=MIG-<uuid>" in (finding.fix or "")
    assert "nvidia-smi -i 0 -mig 0" in (finding.fix or "")


def test_mig_quiet_when_a_mig_device_is_named_or_torch_sees_one() -> None:
    facts = _no_torch_device(_host(_then(_mig_on)))
    named = edit(
        facts,
        "env.variables",
        {**facts.env.variables, "CUDA_VISIBLE_DEVICES": "MIG-0d8a4b3c-8b7e-5f8c-9d3a-1e2f3a4b5c6d"},
    )
    assert _one(named, "EL-MIG-NO-DEVICE") is None
    # unset, CUDA enumerates the first MIG device, and torch saw it
    assert _one(_host(_then(_mig_on)), "EL-MIG-NO-DEVICE") is None
    # MIG off: whatever torch sees, no MIG finding
    assert _one(_no_torch_device(_host(_healthy)), "EL-MIG-NO-DEVICE") is None


# ------------------------------------------------------------------ fabric manager
@pytest.mark.parametrize("state", [1, 2])  # NVML_GPU_FABRIC_STATE_NOT_STARTED, _IN_PROGRESS
def test_a_gpu_not_registered_in_the_fabric_is_an_error(state: int) -> None:
    fabric = {"nvmlDeviceGetGpuFabricInfo": {"fills": {"state": state, "status": 0}}}
    facts = _no_torch_device(_host(_then(lambda d: d.update(fabric))))
    finding = _one(facts, "EL-FABRIC-MANAGER")
    assert finding is not None and finding.severity is Severity.ERROR
    assert "systemctl enable --now nvidia-fabricmanager" in (finding.fix or "")
    assert "580.65.06" in (finding.fix or "")


def test_fabric_registration_that_completed_with_an_error_status_fires() -> None:
    # state COMPLETED (3), status nvmlReturn_t NVML_ERROR_UNKNOWN 999
    fabric = {"nvmlDeviceGetGpuFabricInfo": {"fills": {"state": 3, "status": 999}}}
    assert _one(_host(_then(lambda d: d.update(fabric))), "EL-FABRIC-MANAGER") is not None


def _sysfs(root: Path, nvswitches: int, manager: bool, init: str = "systemd") -> tuple[str, str]:
    """A PCI tree with an H100 and `nvswitches` NVSwitch bridges (class 0x068000), and a
    /proc whose pid 1 is `init`, with or without nv-fabricmanager."""
    devices = root / "devices"
    for n in range(nvswitches + 1):
        dev = devices / f"0000:{0x42 + n:02x}:00.0"
        dev.mkdir(parents=True)
        (dev / "vendor").write_text("0x10de\n")
        (dev / "class").write_text("0x030200\n" if n == 0 else "0x068000\n")
    procs = {"1": init, "812": "sshd", **({"2231": "nv-fabricmanage"} if manager else {})}
    for pid, comm in procs.items():
        (root / "proc" / pid).mkdir(parents=True)
        (root / "proc" / pid / "comm").write_text(comm + "\n")
    return str(devices), str(root / "proc")


def test_nvswitches_without_a_running_fabric_manager_fire(tmp_path: Path) -> None:
    # An HGX A100: nvmlDeviceGetGpuFabricInfo is Hopper+ (NOT_SUPPORTED), the bus shows 6
    # NVSwitches, and /proc (the host's: pid 1 is systemd) has no nv-fabricmanager.
    fabric = FabricFacts(**nvml.fabric(*_sysfs(tmp_path / "a", 6, manager=False)))
    assert fabric == FabricFacts(nvswitch_count=6, manager_running=False)
    unsupported = {"nvmlDeviceGetGpuFabricInfo": {"raise": NOT_SUPPORTED, "text": "x"}}
    facts = _no_torch_device(_host(_then(lambda d: d.update(unsupported)), fabric=fabric))
    finding = _one(facts, "EL-FABRIC-MANAGER")
    assert finding is not None and "6 NVSwitch(es)" in finding.message


def test_fabric_manager_running_or_unknowable_is_quiet(tmp_path: Path) -> None:
    running = FabricFacts(**nvml.fabric(*_sysfs(tmp_path / "a", 6, manager=True)))
    assert running.manager_running is True
    assert _one(_host(_healthy, fabric=running), "EL-FABRIC-MANAGER") is None
    # a container's own /proc (pid 1 is the job) cannot say: no finding, not a guess
    boxed = FabricFacts(**nvml.fabric(*_sysfs(tmp_path / "b", 6, manager=False, init="python")))
    assert boxed.manager_running is None
    assert _one(_host(_healthy, fabric=boxed), "EL-FABRIC-MANAGER") is None
    # no NVSwitch at all (a PCIe H100): /proc is not even read
    alone = FabricFacts(**nvml.fabric(*_sysfs(tmp_path / "c", 0, manager=False)))
    assert alone == FabricFacts(nvswitch_count=0, manager_running=None)


# ------------------------------------------------------------------ pip check
# torchvision 0.29.1's METADATA Requires-Dist lines, as the probe reads them (recorded
# from the wheel installed by tests/ext_assets.py: ~/.cache/envlock-test/extensions14/tv).
TORCHVISION_0_29_1 = [
    "numpy",
    "torch (>=2.14.0)",
    "pillow (!=8.3.*,>=5.3.0)",
    "gdown (>=4.7.3) ; extra == 'gdown'",
    "scipy ; extra == 'scipy'",
]


def _with_torchvision(packages: dict[str, str]) -> Facts:
    f = cuda_venv()
    dists = {**f.packages.distributions, "torchvision": "0.29.1", **packages}
    tv = RequiresFacts(distribution="torchvision", version="0.29.1", requires=TORCHVISION_0_29_1)
    f = edit(f, "packages.distributions", dists)
    return edit(f, "packages.family_dependencies", [tv])


def test_torchvision_without_numpy_or_pillow_is_an_error_naming_what_to_install() -> None:
    facts = _with_torchvision({})
    assert "numpy" not in facts.packages.distributions
    finding = _one(facts, "EL-FAMILY-MISSING-DEP")
    assert finding is not None and finding.severity is Severity.ERROR
    assert "torchvision 0.29.1 requires numpy: not installed" in finding.message
    assert finding.fix == "pip install 'numpy' 'pillow!=8.3.*,>=5.3.0'"
    assert "gdown" not in finding.message and "scipy" not in finding.message  # extras


def test_a_pillow_the_specifier_excludes_is_named_with_its_version() -> None:
    finding = _one(
        _with_torchvision({"numpy": "2.4.1", "pillow": "8.3.1"}), "EL-FAMILY-MISSING-DEP"
    )
    assert finding is not None and "pillow (!=8.3.*,>=5.3.0): 8.3.1 installed" in finding.message
    assert "numpy" not in finding.message


def test_family_with_its_dependencies_installed_is_quiet() -> None:
    facts = _with_torchvision({"numpy": "2.4.1", "pillow": "11.3.0"})
    assert _one(facts, "EL-FAMILY-MISSING-DEP") is None


def _probed(*site: Path) -> Facts:
    """cuda_venv() with its packages section probed for real over these directories."""
    doc = cuda_venv().to_dict()
    doc["packages"] = packages.collect([str(s) for s in site])
    return Facts.from_dict(doc)


def _site(venv: str) -> Path:
    found = sorted((VENV_ROOT / venv / "lib").glob("python3*/site-packages"))
    if not found:
        pytest.skip(f"the {venv} test venv is not provisioned")
    return found[0]


def test_the_real_torch_venv_meets_every_dependency_torch_requires() -> None:
    facts = _probed(_site("torch-cuda"))
    (torch,) = facts.packages.family_dependencies
    assert torch.distribution == "torch" and "filelock" in torch.requires
    assert _one(facts, "EL-FAMILY-MISSING-DEP") is None


def test_a_real_torchvision_installed_without_numpy_and_pillow_fires() -> None:
    tv = Path.home() / ".cache" / "envlock-test" / "extensions14" / "tv"
    if not (tv / "torchvision-0.29.1.dist-info").is_dir():
        pytest.skip("tests/ext_assets.py's torchvision 0.29.1 is not provisioned")
    facts = _probed(tv, _site("torch-cuda"))
    finding = _one(facts, "EL-FAMILY-MISSING-DEP")
    assert finding is not None
    assert finding.fix == "pip install 'numpy' 'pillow!=8.3.*,>=5.3.0'"
