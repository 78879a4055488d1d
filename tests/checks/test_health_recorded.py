"""Health checks on RECORDED answers (issue 21 item 5): `nvidia-smi -q` text from real
systems (tests/fixtures/nvidia_smi/README.md names each source), turned into the NVML
answers it prints (tests/checks/smi_nvml.py) and replayed through the real probe
(envlock.probe.nvml) with the fake pynvml at the adapter boundary. Each check fires on its
faulty recording, on the GPU the recording names, and not on the healthy ones; the same
files pasted to `envlock doctor --nvidia-smi` say the same.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import pytest

from envlock.checks import run_checks
from envlock.facts import Facts
from envlock.findings import Finding, Severity
from envlock.pasted import facts_from_texts
from envlock.probe import nvml
from tests.checks.smi_nvml import recording_from_smi
from tests.conftest import FIXTURES
from tests.facts_builders import edit, h100_host
from tests.probe.fakes import build_fake_pynvml

SMI = FIXTURES / "nvidia_smi"
HEALTH = (
    "EL-GPU-LOST",
    "EL-GPU-ECC-UNCORRECTED",
    "EL-GPU-MEMORY-REPAIR-PENDING",
    "EL-MIG-NO-DEVICE",
    "EL-FABRIC-MANAGER",
)


def _replayed(recording: dict[str, object]) -> Facts:
    """h100_host() with its driver section as the probe reads it from `recording`."""
    driver_doc = nvml.collect(nvml_module=build_fake_pynvml(recording))
    doc = {"facts_version": 1, "meta": {"envlock_version": "t", "collected_at": "t"}}
    driver = Facts.from_dict({**doc, "driver": driver_doc}).driver
    # this machine's /sys (no NVSwitch, no nvidia module) is not the recorded one's
    return edit(h100_host(), "driver", dataclasses.replace(driver, fabric=None))


def _smi(name: str) -> Facts:
    return _replayed(recording_from_smi((SMI / name).read_text()))


def _health(facts: Facts) -> dict[str, Finding]:
    found = [f for f in run_checks(facts) if f.check_id in HEALTH]
    assert len({f.check_id for f in found}) == len(found)
    return {f.check_id: f for f in found}


# ------------------------------------------------------------------ the translator
def test_the_recording_is_read_as_nvml_answers() -> None:
    """What the probe read from the A100 node's -q is what nvidia-smi printed."""
    gpus = _smi("gls-a100-sxm4x4-remap-pending.q.txt").driver.gpus or []
    assert [g.pci_bus_id for g in gpus] == [
        "0000:68:00.0",
        "0000:9e:00.0",
        "0000:c2:00.0",
        "0000:d4:00.0",
    ]
    assert {g.name for g in gpus} == {"NVIDIA A100-SXM4-80GB"}
    healths = [g.health for g in gpus]
    assert all(h is not None for h in healths)
    pending = [h.remap_pending for h in healths if h]
    assert pending == [False, True, False, False]
    # "Pending Page Blacklist : N/A" on Ampere: not supported, unknown, never "healthy"
    assert all(h.retired_pages_pending is None for h in healths if h)
    assert all(h.returns["nvmlDeviceGetRetiredPagesPendingStatus"] == 3 for h in healths if h)
    assert all(h.ecc_volatile_uncorrected == 0 for h in healths if h)


# ------------------------------------------------------------------ each check, recorded
def test_a_recorded_pending_row_remap_names_its_gpu() -> None:
    finding = _health(_smi("gls-a100-sxm4x4-remap-pending.q.txt"))["EL-GPU-MEMORY-REPAIR-PENDING"]
    assert finding.severity is Severity.ERROR
    assert "GPU 1 (0000:9e:00.0)" in finding.message and "waits for a GPU reset" in finding.message
    for healthy in ("0000:68:00.0", "0000:c2:00.0", "0000:d4:00.0"):
        assert healthy not in finding.message
    assert "nvidia-smi -r -i 1" in (finding.fix or "")
    assert set(_health(_smi("gls-a100-sxm4x4-remap-pending.q.txt"))) == {
        "EL-GPU-MEMORY-REPAIR-PENDING"
    }


def test_a_recorded_remap_block_with_uncorrectable_rows_pending_fires() -> None:
    facts = _smi("gpud-80-remap-pending.q.txt")
    (gpu,) = facts.driver.gpus or []
    assert gpu.health is not None and gpu.health.remapped_rows_uncorrectable == 4
    assert "EL-GPU-MEMORY-REPAIR-PENDING" in _health(facts)


def test_a_recorded_fabric_registration_error_status_fires() -> None:
    """State Completed with Status 'Insufficient Resources' (NVML_ERROR_INSUFFICIENT_RESOURCES,
    23): the status 'must be checked when the state is completed' (nvmlGpuFabricInfo_t)."""
    facts = _smi("azhpc-images-506-fabric-status.q.txt")
    (gpu,) = facts.driver.gpus or []
    assert gpu.health is not None
    assert (gpu.health.fabric_state, gpu.health.fabric_status) == ("completed", 23)
    finding = _health(facts)["EL-FABRIC-MANAGER"]
    assert "nvidia-fabricmanager" in (finding.fix or "")


def test_a_recorded_gpu_without_a_handle_is_lost() -> None:
    """nvidia-smi printed only 'Unable to determine the device handle for GPU 0000:09:00.0:
    Unknown Error' (NVML_ERROR_UNKNOWN, 999) for the failed GPU of NVIDIA/nvidia-docker#1553."""
    facts = _smi("nvidia-docker-1553.txt")
    (gpu,) = facts.driver.gpus or []
    assert gpu.health is not None
    assert gpu.health.returns == {"nvmlDeviceGetHandleByIndex": 999}
    finding = _health(facts)["EL-GPU-LOST"]
    assert finding.severity is Severity.ERROR and "Unknown Error" in finding.message


MIG_QUERY = "k8s-device-plugin-257-mig-enabled.q.txt"
# the job's, not the recording's: a MIG device named as CUDA_VISIBLE_DEVICES takes it
MIG_UUID = "MIG-0d8a4b3c-8b7e-5f8c-9d3a-1e2f3a4b5c6d"


def _job(facts: Facts, visible: str | None, torch_sees: bool | None = None) -> Facts:
    """`facts` with the job's CUDA_VISIBLE_DEVICES and, when given, what its torch saw."""
    variables = {k: v for k, v in facts.env.variables.items() if k != "CUDA_VISIBLE_DEVICES"}
    if visible is not None:
        variables["CUDA_VISIBLE_DEVICES"] = visible
    facts = edit(facts, "env.variables", variables)
    live = facts.torch.live
    if torch_sees is None or live is None:
        return facts
    seen = dataclasses.replace(live, cuda_available=torch_sees, device_count=int(torch_sees))
    return edit(facts, "torch.live", seen)


def test_the_mig_recording_is_read_as_nvml_answers() -> None:
    """The A100 of NVIDIA/k8s-device-plugin#257: MIG Mode Current Enabled, one MIG device."""
    recording = recording_from_smi((SMI / MIG_QUERY).read_text())
    (device,) = recording["devices"]
    assert device["nvmlDeviceGetMigMode"] == [1, 1]
    (gpu,) = _smi(MIG_QUERY).driver.gpus or []
    assert (gpu.name, gpu.pci_bus_id, gpu.mig_mode) == (
        "A100-PCIE-40GB",
        "0000:86:00.0",
        True,
    )


@pytest.mark.parametrize(
    ("visible", "torch_sees", "fires"),
    [
        ("0", False, True),  # the whole GPU named: CUDA sees none of its MIG devices
        (None, False, True),  # unset, and torch saw no device
        (MIG_UUID, True, False),  # a MIG device named
        (None, True, False),  # unset: CUDA enumerates the first MIG device, torch saw it
    ],
)
def test_recorded_mig_mode_and_the_jobs_visible_devices(
    visible: str | None, torch_sees: bool, fires: bool
) -> None:
    facts = _job(_smi(MIG_QUERY), visible, torch_sees)
    found = _health(facts)
    assert ("EL-MIG-NO-DEVICE" in found) is fires, found
    assert set(found) <= {"EL-MIG-NO-DEVICE"}  # MIG is the recording's only health state
    if fires:
        assert "GPU 0 (0000:86:00.0)" in found["EL-MIG-NO-DEVICE"].message


def test_a_mig_disabled_recording_never_fires_mig() -> None:
    """The negative control: the A100 node's GPUs have MIG Disabled; the same job settings
    raise no MIG finding."""
    facts = _job(_smi("gls-a100-sxm4x4-remap-pending.q.txt"), "0", False)
    assert all(g.mig_mode is False for g in facts.driver.gpus or [])
    assert "EL-MIG-NO-DEVICE" not in _health(facts)


@pytest.mark.parametrize(
    "name", ["gls-h100-sxm5x8-fabric-completed.q.txt", "gls-a100-sxm4x4-remap-pending.q.txt"]
)
def test_healthy_recorded_gpus_raise_no_health_finding(name: str) -> None:
    """The HGX H100 (Fabric Completed/Success) and the A100 node without its pending GPU."""
    recording = recording_from_smi((SMI / name).read_text())
    devices = [d for d in recording["devices"] if d["nvmlDeviceGetRemappedRows"][2] == 0]
    assert devices
    recording = {**recording, "devices": devices, "nvmlDeviceGetCount": len(devices)}
    facts = _replayed(recording)
    assert all(g.health and g.health.returns for g in facts.driver.gpus or [])
    assert _health(facts) == {}


# ------------------------------------------------------------------ the pasted path
@pytest.mark.parametrize(
    ("name", "check_id", "says"),
    [
        ("gls-a100-sxm4x4-remap-pending.q.txt", "EL-GPU-MEMORY-REPAIR-PENDING", "0000:9E:00.0"),
        ("nvidia-docker-1553.txt", "EL-GPU-LOST", "0000:09:00.0"),
    ],
)
def test_pasted_recordings_give_the_same_finding(name: str, check_id: str, says: str) -> None:
    facts = facts_from_texts(nvidia_smi=(SMI / name).read_text())
    finding = _health(facts)[check_id]
    assert says.lower() in finding.message.lower()


@pytest.mark.parametrize(("visible", "fires"), [("0", True), (MIG_UUID, False)])
def test_the_pasted_mig_recording_and_the_jobs_visible_devices(visible: str, fires: bool) -> None:
    """Pasted, no torch was seen: the variable alone decides (set to the GPU, it fires)."""
    facts = facts_from_texts(nvidia_smi=(SMI / MIG_QUERY).read_text())
    (gpu,) = facts.driver.gpus or []
    assert gpu.mig_mode is True
    assert ("EL-MIG-NO-DEVICE" in _health(_job(facts, visible))) is fires


def test_a_pasted_healthy_q_raises_no_health_finding() -> None:
    facts = facts_from_texts(
        nvidia_smi=(SMI / "gls-h100-sxm5x8-fabric-completed.q.txt").read_text()
    )
    (gpu,) = facts.driver.gpus or []
    assert gpu.health is not None and gpu.health.fabric_state == "completed"
    assert _health(facts) == {}


def test_doctor_nvidia_smi_reports_the_recorded_remap() -> None:
    path = SMI / "gls-a100-sxm4x4-remap-pending.q.txt"
    cmd = [sys.executable, "-m", "envlock", "doctor", "--nvidia-smi", str(path), "--format", "json"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1, done.stderr
    ids = [f["id"] for f in json.loads(done.stdout)["findings"]]
    assert "EL-GPU-MEMORY-REPAIR-PENDING" in ids
