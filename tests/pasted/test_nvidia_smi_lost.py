"""A GPU fallen off the bus in a pasted nvidia-smi (issue 21 item 5): nvidia-smi prints
only "Unable to determine the device handle for GPU <bus id>: Unknown Error" for it
(tests/fixtures/nvidia_smi/README.md names the public issue), and the doctor says
EL-GPU-LOST; a healthy paste says nothing of the kind."""

from __future__ import annotations

from envlock.checks import run_checks
from envlock.pasted import facts_from_texts
from tests.conftest import FIXTURES


def _smi(name: str) -> str:
    return (FIXTURES / "nvidia_smi" / name).read_text()


def test_a_pasted_lost_gpu_is_el_gpu_lost() -> None:
    facts = facts_from_texts(nvidia_smi=_smi("nvidia-docker-1553.txt"))
    (gpu,) = facts.driver.gpus or []
    assert gpu.pci_bus_id == "0000:09:00.0"
    assert gpu.health is not None and gpu.health.lost
    # "Unknown Error" is NVML_ERROR_UNKNOWN (999), "GPU is lost" NVML_ERROR_GPU_IS_LOST (15)
    assert gpu.health.returns == {"nvmlDeviceGetHandleByIndex": 999}
    (finding,) = [f for f in run_checks(facts) if f.check_id == "EL-GPU-LOST"]
    assert "0000:09:00.0" in finding.message


def test_gpu_is_lost_text_keeps_nvml_code_15_beside_a_table() -> None:
    text = _smi("pytorch-45028.txt") + (
        "\nUnable to determine the device handle for GPU 0000:C7:00.0: GPU is lost. "
        "Reboot the system to recover this GPU\n"
    )
    gpus = facts_from_texts(nvidia_smi=text).driver.gpus or []
    lost = [g for g in gpus if g.health and g.health.lost]
    assert [(g.pci_bus_id, g.health.returns) for g in lost if g.health] == [
        ("0000:C7:00.0", {"nvmlDeviceGetHandleByIndex": 15})
    ]
    assert len(gpus) == len(lost) + 1 and gpus[0].name == "A100-SXM4-40GB"


def test_a_healthy_pasted_table_is_quiet() -> None:
    facts = facts_from_texts(nvidia_smi=_smi("pytorch-45028.txt"))
    # the table's Volatile Uncorr. ECC column (0) is read; nothing says the GPU is lost
    gpus = facts.driver.gpus or []
    assert gpus and all(g.health and not g.health.lost for g in gpus)
    assert all(g.health and g.health.ecc_volatile_uncorrected == 0 for g in gpus)
    assert "EL-GPU-LOST" not in {f.check_id for f in run_checks(facts)}
