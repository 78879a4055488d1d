"""What the GPU kit brings back of NVML's health answers (tests/gpu/nvml_health.py), on
a recording made here by the recorder over a replay of edited H100 answers (the same
path the kit takes over the real pynvml)."""

from __future__ import annotations

import json
from pathlib import Path

from envlock.probe import nvml
from tests.conftest import load_fixture_json
from tests.gpu.nvml_health import main, return_codes
from tests.gpu.nvml_recorder import RecordingNvml
from tests.probe.fakes import build_fake_pynvml


def _recorded(device_answers: dict[str, object]) -> dict[str, object]:
    recording = load_fixture_json("nvml.h100-driver-580.json")["nvml"]
    recording["devices"][0].update(device_answers)
    recorder = RecordingNvml(build_fake_pynvml(recording))
    nvml.collect(nvml_module=recorder)
    return dict(json.loads(json.dumps(recorder.recording)))


ANSWERS: dict[str, object] = {
    # NVML API Reference forms: ECC (UNCORRECTED 1, VOLATILE 0) count; remapped rows
    # (corr, unc, pending, failure); pending retirement NOT_SUPPORTED (3) on Hopper;
    # retired pages for DOUBLE_BIT_ECC_ERROR (1); nvmlGpuFabricInfo_t filled
    "nvmlDeviceGetTotalEccErrors": {"by_args": {"1,0": 0}},
    "nvmlDeviceGetRemappedRows": [0, 0, 0, 0],
    "nvmlDeviceGetRetiredPagesPendingStatus": {"raise": 3, "text": "Not Supported"},
    "nvmlDeviceGetRetiredPages": {"by_args": {"1": []}},
    "nvmlDeviceGetGpuFabricInfo": {"fills": {"state": 3, "status": 0}},
}


def test_every_health_query_is_recorded_with_its_return_code() -> None:
    codes, missing = return_codes(_recorded(ANSWERS))
    assert missing == []
    assert codes == [
        {
            "nvmlDeviceGetMigMode": 0,
            "nvmlDeviceGetEccMode": 0,
            "nvmlDeviceGetTotalEccErrors": {"1,0": 0},
            "nvmlDeviceGetRemappedRows": 0,
            "nvmlDeviceGetRetiredPagesPendingStatus": 3,
            "nvmlDeviceGetRetiredPages": {"1": 0},
            "nvmlDeviceGetGpuFabricInfo": 0,
        }
    ]


def test_a_recording_without_the_health_answers_is_a_problem(tmp_path: Path) -> None:
    """The published H100 answers predate the health queries: the kit says so."""
    (tmp_path / "summary.md").write_text("")
    recording = _recorded({})
    (tmp_path / "nvml.h100-driver-580-recorded.json").write_text(json.dumps({"nvml": recording}))
    assert main(tmp_path) == 1
    summary = (tmp_path / "summary.md").read_text()
    assert (
        "- PROBLEM: nvml.h100-driver-580-recorded.json: GPU 0: nvmlDeviceGetRemappedRows" in summary
    )
