"""The NVML recorder (tests/gpu/nvml_recorder.py) writes what the replay reads: recording
a module and replaying the recording gives the probe the same driver facts. On the GPU
machine the recorded module is the real pynvml (tests/gpu); here it is a replay."""

from __future__ import annotations

import ctypes
import json
from typing import Any

from envlock.probe import nvml
from tests.conftest import load_fixture_json
from tests.gpu.nvml_recorder import RecordingNvml, plain
from tests.probe.fakes import build_fake_pynvml


def _driver(module: Any) -> dict[str, Any]:
    return nvml.collect(nvml_module=module)


def test_recording_a_replay_replays_to_the_same_facts() -> None:
    source = build_fake_pynvml(load_fixture_json("nvml.h100-driver-580.json")["nvml"])
    source.NVML_BRAND_NVIDIA = 14  # type: ignore[attr-defined]
    source.nvmlDeviceGetBrand = lambda handle: 14  # type: ignore[attr-defined]
    recorder = RecordingNvml(source)
    first = _driver(recorder)
    assert first["gpus"][0]["name"] == "NVIDIA H100 80GB HBM3"
    assert first["gpus"][0]["brand"] == "nvidia"
    recording = json.loads(json.dumps(recorder.recording))  # what the kit writes to a file
    assert recording["nvmlSystemGetDriverVersion"] == "580.65.06"
    assert recording["constants"] == {"NVML_BRAND_NVIDIA": 14}
    assert recording["devices"][0]["nvmlDeviceGetCudaComputeCapability"] == [9, 0]
    assert _driver(build_fake_pynvml(recording)) == first


def test_an_nvml_error_is_recorded_and_replayed_as_the_same_error() -> None:
    source = build_fake_pynvml(
        {
            "nvmlSystemGetDriverVersion": "580.65.06",
            "nvmlDeviceGetCount": {"raise": 15, "text": "GPU is lost"},
        }
    )
    recorder = RecordingNvml(source)
    first = _driver(recorder)
    assert first["nvml_error"] == "NVML_ERROR_GPU_IS_LOST"
    assert recorder.recording["nvmlDeviceGetCount"] == {"raise": 15, "text": "GPU is lost"}
    assert _driver(build_fake_pynvml(recorder.recording)) == first


class _Pci(ctypes.Structure):
    _fields_ = [("busId", ctypes.c_char * 16), ("pciDeviceId", ctypes.c_uint)]


def test_ctypes_answers_become_json_data() -> None:
    pci = _Pci(b"00000000:42:00.0", 0x233010DE)
    assert plain(pci) == {"busId": "00000000:42:00.0", "pciDeviceId": 0x233010DE}
    assert plain((1, 0)) == [1, 0]
    assert plain(b"NVIDIA H100") == "NVIDIA H100"
