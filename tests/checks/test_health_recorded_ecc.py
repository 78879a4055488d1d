"""Uncorrectable ECC errors and a row remap pending, RECORDED (issue 21 item 5): the outputs
of one RTX PRO 6000 Blackwell node after a VRAM double-bit error, as its operator published
them (tests/fixtures/nvidia_smi/README.md, sirzzang-rtxpro6000-dbe*): the `nvidia-smi`
table (GPU 1's Volatile Uncorr. ECC column at 2, GPU 0's at 0), `nvidia-smi -i 1 -q -d ECC`
(DRAM Uncorrectable 2) and `-q -d ROW_REMAPPER` (one uncorrectable row, Pending Yes).

Each is replayed as the NVML answers it prints through the real probe with the fake pynvml
(tests/checks/smi_nvml.py), and pasted to `envlock doctor --nvidia-smi`: the health finding
fires on the faulty GPU only, and not on the healthy recordings.
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
TABLE = SMI / "sirzzang-rtxpro6000-dbe.table.txt"
ECC_Q = SMI / "sirzzang-rtxpro6000-dbe-ecc.q.txt"
REMAP_Q = SMI / "sirzzang-rtxpro6000-dbe-row-remapper.q.txt"
ECC = "EL-GPU-ECC-UNCORRECTED"
REPAIR = "EL-GPU-MEMORY-REPAIR-PENDING"


def _replayed(text: str) -> Facts:
    """h100_host() with the driver section the probe reads from the recorded answers."""
    driver_doc = nvml.collect(nvml_module=build_fake_pynvml(recording_from_smi(text)))
    doc = {"facts_version": 1, "meta": {"envlock_version": "t", "collected_at": "t"}}
    driver = Facts.from_dict({**doc, "driver": driver_doc}).driver
    return edit(h100_host(), "driver", dataclasses.replace(driver, fabric=None))


def _found(facts: Facts) -> dict[str, Finding]:
    return {f.check_id: f for f in run_checks(facts) if f.check_id in (ECC, REPAIR)}


def _doctor(path: str) -> list[dict[str, object]]:
    cmd = [sys.executable, "-m", "envlock", "doctor", "--nvidia-smi", path, "--format", "json"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode in (0, 1), done.stderr
    findings: list[dict[str, object]] = json.loads(done.stdout)["findings"]
    return findings


# ------------------------------------------------------------------ through the fake pynvml
def test_the_recorded_ecc_query_is_two_volatile_uncorrectable_errors() -> None:
    """`-q -d ECC`'s Volatile DRAM Uncorrectable 2 is what NVML answered; the Aggregate 2
    (the card's lifetime count) is not the volatile answer."""
    (device,) = recording_from_smi(ECC_Q.read_text())["devices"]
    assert device["nvmlDeviceGetTotalEccErrors"] == {"by_args": {"1,0": 2}}
    (gpu,) = _replayed(ECC_Q.read_text()).driver.gpus or []
    assert gpu.health is not None and gpu.health.ecc_volatile_uncorrected == 2


def test_the_recorded_ecc_errors_fire_the_ecc_check() -> None:
    finding = _found(_replayed(ECC_Q.read_text()))[ECC]
    assert finding.severity is Severity.ERROR
    assert "uncorrectable ECC errors since the driver loaded (2)" in finding.message
    assert "nvidia-smi -r -i 0" in (finding.fix or "")


def test_the_recorded_row_remapper_fires_the_repair_check_only() -> None:
    facts = _replayed(REMAP_Q.read_text())
    (gpu,) = facts.driver.gpus or []
    assert gpu.health is not None
    assert (gpu.health.remapped_rows_uncorrectable, gpu.health.remap_pending) == (1, True)
    assert gpu.health.remap_failed is False
    found = _found(facts)
    assert set(found) == {REPAIR}  # -d ROW_REMAPPER prints no ECC counts: none is invented
    assert "0000:55:00.0" in found[REPAIR].message
    assert "waits for a GPU reset" in found[REPAIR].message


@pytest.mark.parametrize(
    "name", ["gls-h100-sxm5x8-fabric-completed.q.txt", "gls-a100-sxm4x4-remap-pending.q.txt"]
)
def test_recorded_zero_ecc_counts_stay_quiet(name: str) -> None:
    """Recordings whose Volatile uncorrectable counts are all 0 raise no ECC finding (the
    A100 node's pending remap is the other check's)."""
    facts = _replayed((SMI / name).read_text())
    gpus = facts.driver.gpus or []
    assert gpus and all(g.health and g.health.ecc_volatile_uncorrected == 0 for g in gpus)
    assert ECC not in _found(facts)


# ------------------------------------------------------------------ pasted: doctor --nvidia-smi
def test_the_pasted_table_reads_each_gpus_volatile_uncorrectable_column() -> None:
    """The table's Volatile Uncorr. ECC column is nvmlDeviceGetTotalEccErrors(UNCORRECTED,
    VOLATILE): 0 on GPU 0, 2 on GPU 1, both read as answered."""
    gpus = facts_from_texts(nvidia_smi=TABLE.read_text()).driver.gpus or []
    assert [(g.index, g.pci_bus_id) for g in gpus] == [
        (0, "00000000:54:00.0"),
        (1, "00000000:55:00.0"),
    ]
    counts = [g.health.ecc_volatile_uncorrected if g.health else None for g in gpus]
    assert counts == [0, 2]
    assert all(g.health and g.health.returns["nvmlDeviceGetTotalEccErrors"] == 0 for g in gpus)


def test_doctor_nvidia_smi_names_the_gpu_with_uncorrectable_errors() -> None:
    (finding,) = [f for f in _doctor(str(TABLE)) if f["id"] == ECC]
    message = str(finding["message"])
    assert "GPU 1 (00000000:55:00.0)" in message and "(2)" in message
    assert "00000000:54:00.0" not in message  # GPU 0's column is 0


def test_doctor_nvidia_smi_reports_the_recorded_pending_remap() -> None:
    ids = [f["id"] for f in _doctor(str(REMAP_Q))]
    assert REPAIR in ids and ECC not in ids


def test_the_table_and_the_row_remapper_pasted_together_keep_both_answers() -> None:
    """Both outputs in one paste, as the operator published them: GPU 1 keeps the table's
    ECC count and gets the -q block's pending remap; GPU 0 gets neither."""
    text = TABLE.read_text() + "\n" + REMAP_Q.read_text()
    found = _found(facts_from_texts(nvidia_smi=text))
    assert set(found) == {ECC, REPAIR}
    for finding in found.values():
        assert "GPU 1 (00000000:55:00.0)" in finding.message
        assert "00000000:54:00.0" not in finding.message


@pytest.mark.parametrize("name", ["pytorch-45028.txt", "digits-2005.txt", "3d-sis-13.txt"])
def test_pasted_tables_at_zero_raise_no_ecc_finding(name: str) -> None:
    """An A100, two K40m and a P100 table, every Volatile Uncorr. ECC cell 0: read as 0,
    no ECC finding."""
    facts = facts_from_texts(nvidia_smi=(SMI / name).read_text())
    gpus = facts.driver.gpus or []
    assert gpus and all(g.health and g.health.ecc_volatile_uncorrected == 0 for g in gpus)
    assert ECC not in _found(facts)
