"""Every GPU path of envlock on a real NVIDIA GPU (the device machine; skipped elsewhere).

The probe with NVML and the torch child seeing CUDA, NVML recorded and replayed, the
doctor on the real host, lock then verify on one machine, a lock whose driver is newer
than this one, preflight() leaving the caller without a CUDA context while CUDA works,
and `verify --distributed` with two ranks on one GPU host. What is recorded goes to
$ENVLOCK_GPU_OUT (see conftest.py) to be committed as fixtures.
"""

from __future__ import annotations

import dataclasses
import json
import re
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import tomllib

from envlock.facts import Facts
from envlock.probe import nvml
from tests.conftest import clean_env, run_envlock
from tests.gpu.conftest import fixture_name
from tests.gpu.nvml_recorder import RecordingNvml
from tests.probe.fakes import build_fake_pynvml

# Findings the doctor may give on the device machine (a Firecracker VM with one GPU)
# without that being a fault of envlock: none are expected. A first real run that shows
# one names it here with the reason, or fixes envlock.
EXPECTED_ERRORS_ON_DEVICE: dict[str, str] = {}


def _probe(gpu_python: str) -> tuple[Facts, dict[str, Any]]:
    proc = run_envlock(["probe", "--json"], python=gpu_python, timeout=240)
    assert proc.returncode == 0, proc.stderr
    return Facts.from_json(proc.stdout), json.loads(proc.stdout)


def _scrubbed(doc: dict[str, Any]) -> dict[str, Any]:
    """A facts document fit to commit: no hostname, GPU UUIDs or home paths."""
    text = json.dumps(doc)
    host = (doc.get("system") or {}).get("hostname")
    if host:
        text = text.replace(json.dumps(host), json.dumps("gpu-host"))
    for gpu in (doc.get("driver") or {}).get("gpus") or []:
        if gpu.get("uuid"):
            text = text.replace(gpu["uuid"], "GPU-00000000-0000-0000-0000-000000000000")
    return dict(json.loads(text))


def test_probe_reads_the_real_driver_gpus_and_torch(
    gpu_python: str, gpu_out: Path, record: Callable[[str, Any], None]
) -> None:
    facts, doc = _probe(gpu_python)
    driver = facts.driver
    # Recorded first: a failed assertion below must not cost the data.
    first_gpu = (driver.gpus or [None])[0]
    name = fixture_name("facts", first_gpu.name if first_gpu else None, f"driver-{driver.version}")
    (gpu_out / name).write_text(json.dumps(_scrubbed(doc), indent=1, sort_keys=True) + "\n")
    assert driver.source == "nvml" and driver.unavailable is None, driver
    assert driver.version and re.fullmatch(r"\d+\.\d+(\.\d+)?", driver.version)
    assert driver.kernel_module_version in (None, driver.version)
    assert driver.cuda_version and re.fullmatch(r"\d+\.\d", driver.cuda_version)
    assert driver.gpus, "NVML listed no GPU"
    gpu = driver.gpus[0]
    assert gpu.name and gpu.name.startswith("NVIDIA"), gpu
    assert gpu.compute_capability and re.fullmatch(r"\d+\.\d+", gpu.compute_capability)
    assert gpu.memory_total_bytes and gpu.memory_total_bytes > 1 << 30
    torch = facts.torch
    assert torch.installed and torch.cuda, torch
    live = torch.live
    assert live is not None and live.unavailable is None, live
    assert live.cuda_available is True, live.cuda_unavailable_reason
    assert live.device_count == len(driver.gpus)
    assert live.cudnn_version and live.nccl_version, live
    assert live.arch_flags, "torch reported no arch flags"
    dev = live.devices[0]
    # Two sources, one GPU: NVML and the CUDA runtime agree on what it is.
    assert dev.compute_capability == gpu.compute_capability
    assert dev.name == gpu.name
    assert dev.sm_count and dev.sm_count > 0
    major = gpu.compute_capability.split(".")[0]
    if int(major) >= 8:
        assert live.bf16_supported is True
    loaded = {lib.name for lib in live.loaded_libraries}
    assert any(n.startswith("libcudnn") for n in loaded), loaded
    assert any(n.startswith("libnccl") for n in loaded), loaded
    record("gpu", f"{gpu.name} (cc {gpu.compute_capability}, {dev.sm_count} SMs)")
    record("driver", f"{driver.version} (CUDA {driver.cuda_version})")
    record(
        "torch",
        f"{torch.version} cuda {torch.cuda} cudnn {live.cudnn_version} nccl {live.nccl_version}",
    )
    record("arch flags", live.arch_flags)
    record("torch import seconds", live.import_seconds)
    # health (issue 21 item 5): every query answered, or refused in a documented way
    # (nvmlReturn_t NOT_SUPPORTED 3, NO_PERMISSION 4); what came back goes in the summary
    for g in driver.gpus:
        assert g.health is not None and not g.health.lost, g
        assert len(g.health.returns) == 5 and set(g.health.returns.values()) <= {0, 3, 4}, g
    record("gpu health", [dataclasses.asdict(g.health) for g in driver.gpus if g.health])
    record("fabric", dataclasses.asdict(driver.fabric) if driver.fabric else None)


def test_nvml_recorded_from_the_real_library_replays_to_the_same_facts(
    gpu_python: str, gpu_out: Path, record: Callable[[str, Any], None]
) -> None:
    pynvml = pytest.importorskip("pynvml", reason="nvidia-ml-py is not installed here")
    recorder = RecordingNvml(pynvml)
    real = nvml.collect(nvml_module=recorder)
    gpus = recorder.recording["devices"]
    for dev in gpus:
        if "nvmlDeviceGetUUID" in dev and isinstance(dev["nvmlDeviceGetUUID"], str):
            dev["nvmlDeviceGetUUID"] = "GPU-00000000-0000-0000-0000-000000000000"
        for key in ("nvmlDeviceGetSerial",):
            dev.pop(key, None)
    doc = {
        "source": {
            "how": "tests/gpu/nvml_recorder.py over the real pynvml on the device machine "
            "(benchmarks/gpu_truth.sh); UUIDs replaced",
            "pynvml": getattr(pynvml, "__version__", None) or "unknown",
        },
        "nvml": recorder.recording,
    }
    first_gpu = (real.get("gpus") or [{}])[0]
    name = fixture_name("nvml", first_gpu.get("name"), f"driver-{real.get('version')}")
    (gpu_out / name).write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    assert real["unavailable"] is None and real["gpus"], real
    # Replayed from the recording (UUIDs replaced above: compare without them).
    replayed = nvml.collect(nvml_module=build_fake_pynvml(recorder.recording))
    for gpu_facts in (*real["gpus"], *replayed["gpus"]):
        gpu_facts.pop("uuid", None)
    assert replayed == real
    record("nvml functions answered", sorted(k for k in recorder.recording if k.startswith("nvml")))


def test_doctor_on_the_real_host(gpu_python: str, record: Callable[[str, Any], None]) -> None:
    proc = run_envlock(["doctor", "--format", "json"], python=gpu_python, timeout=240)
    report = json.loads(proc.stdout)
    record("doctor findings", [(f["id"], f["severity"]) for f in report["findings"]])
    assert report["details"]["not_checked"] == [], report["details"]
    errors = {f["id"] for f in report["findings"] if f["severity"] == "error"}
    assert errors <= set(EXPECTED_ERRORS_ON_DEVICE), report["findings"]
    assert proc.returncode == (1 if errors else 0), proc.stderr


def _lock(gpu_python: str, path: Path) -> Path:
    proc = run_envlock(["lock", "-o", str(path)], python=gpu_python, timeout=240)
    assert proc.returncode == 0, proc.stderr
    return path


def test_lock_then_verify_on_the_same_machine_passes(gpu_python: str, tmp_path: Path) -> None:
    lock = _lock(gpu_python, tmp_path / "envlock.lock.toml")
    text = lock.read_text()
    assert "[driver]" in text and "compute-capability" in text
    proc = run_envlock(["verify", str(lock)], python=gpu_python, timeout=240)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_verify_fails_when_the_locked_driver_is_newer_than_this_one(
    gpu_python: str, tmp_path: Path
) -> None:
    lock = _lock(gpu_python, tmp_path / "envlock.lock.toml")
    text = lock.read_text()
    m = re.search(r'(?m)^\[driver\]\nversion = "(\d+)\.', text)
    assert m, text
    newer = str(int(m.group(1)) + 1)
    lock.write_text(text[: m.start(1)] + newer + text[m.end(1) :])
    proc = run_envlock(["verify", str(lock), "--format", "json"], python=gpu_python, timeout=240)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    fields = {f.get("field") for f in json.loads(proc.stdout)["findings"]}
    assert "driver.version" in fields


NO_CONTEXT_SCRIPT = """
import sys
import envlock
report = envlock.preflight(sys.argv[1], doctor=False)
assert "torch" not in sys.modules, "preflight() imported torch in the caller"
import torch
assert torch.cuda.is_initialized() is False, "preflight() left a CUDA context"
assert torch.cuda.is_available(), "CUDA is not available to this training script"
torch.ones(1, device="cuda")  # the script's own first CUDA work still works
print("verdict", "fail" if report.failed else "pass", "no CUDA context")
"""


def test_preflight_creates_no_cuda_context_while_cuda_is_available(
    gpu_python: str, tmp_path: Path
) -> None:
    lock = _lock(gpu_python, tmp_path / "envlock.lock.toml")
    script = tmp_path / "train.py"
    script.write_text(NO_CONTEXT_SCRIPT)
    proc = subprocess.run(
        [gpu_python, str(script), str(lock)],
        capture_output=True,
        text=True,
        timeout=240,
        env=clean_env(),
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "verdict pass no CUDA context" in proc.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_distributed_verify_with_two_ranks_on_one_gpu_host(gpu_python: str, tmp_path: Path) -> None:
    lock = _lock(gpu_python, tmp_path / "envlock.lock.toml")
    torchrun = [gpu_python, "-m", "torch.distributed.run"]
    cmd = [
        *torchrun,
        "--nnodes", "1", "--nproc-per-node", "2",
        "--master-addr", "127.0.0.1", "--master-port", str(_free_port()),
        "--monitor-interval", "1",
        "-m", "envlock", "verify", str(lock), "--distributed", "--format", "json",
    ]  # fmt: skip
    proc = subprocess.run(
        cmd, capture_output=True, text=True, timeout=300, cwd=tmp_path, env=clean_env(), check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout[proc.stdout.index("{") :])  # rank 0 alone prints it
    assert report["verdict"] == "pass" and report["details"]["world_size"] == 2


def test_a_lock_from_the_recorded_facts_equals_the_lock_made_on_the_machine(
    gpu_python: str, tmp_path: Path
) -> None:
    """Facts captured on a GPU machine lock the same anywhere: the pure path below Facts."""
    proc = run_envlock(["probe", "--json"], python=gpu_python, timeout=240)
    assert proc.returncode == 0, proc.stderr
    facts_file = tmp_path / "facts.json"
    facts_file.write_text(proc.stdout)
    live = _lock(gpu_python, tmp_path / "live.lock.toml")
    proc = run_envlock(["lock", "--facts", str(facts_file), "-o", str(tmp_path / "f.lock.toml")])
    assert proc.returncode == 0, proc.stderr

    def body(path: Path) -> dict[str, Any]:
        doc = tomllib.loads(path.read_text())
        doc.pop("meta")
        return doc

    assert body(tmp_path / "f.lock.toml") == body(live)
