"""The real suite, run by run_suite in the torch virtualenvs (CPU)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from envlock.determinism import CLASSES
from envlock.determinism.compare import compare, run_to_run_findings
from envlock.determinism.runner import run_suite
from envlock.errors import DeterminismError, UsageError
from envlock.facts import DeterminismFacts
from envlock.findings import Severity
from tests.determinism.recordings import CPU_2_13, CPU_2_14, load

pytestmark = pytest.mark.venv


@pytest.fixture(scope="module")
def baseline(cpu_python: Path) -> DeterminismFacts:
    return run_suite(device="cpu", seed=0, python=str(cpu_python))


def test_suite_runs_every_class_with_deterministic_settings(baseline: DeterminismFacts) -> None:
    d = baseline
    assert (d.device, d.seed, d.suite_version) == ("cpu", 0, 1)
    assert list(d.classes) == list(CLASSES) and d.failed == {}
    assert d.context["torch"].startswith("2.13.0")
    assert d.context["device_type"] == "cpu"
    assert int(d.context["num_threads"]) >= 1 and d.context["cpu_capability"]
    assert d.settings["deterministic_algorithms"] == "true"
    assert d.settings["cudnn_benchmark"] == "false"
    assert d.settings["cudnn_deterministic"] == "true"
    for name, c in d.classes.items():
        assert c.digest.startswith("sha256:") and len(c.digest) == 7 + 64, name
        assert c.run_to_run_identical and c.repeat_digest is None, name
        assert c.tensors > 0 and c.summary.elements > 0, name
    assert run_to_run_findings(d) == []


@pytest.mark.slow
def test_two_processes_give_identical_digests(baseline: DeterminismFacts, cpu_python: Path) -> None:
    again = run_suite(device="cpu", seed=0, python=str(cpu_python))
    assert {k: v.digest for k, v in again.classes.items()} == {
        k: v.digest for k, v in baseline.classes.items()
    }
    assert again.context == baseline.context
    assert compare(baseline, again) == []


@pytest.mark.slow
def test_a_different_seed_changes_every_class(baseline: DeterminismFacts, cpu_python: Path) -> None:
    other = run_suite(device="cpu", seed=1234, python=str(cpu_python))
    assert other.seed == 1234
    for name in CLASSES:
        assert other.classes[name].digest != baseline.classes[name].digest, name


def test_live_run_agrees_with_the_recording(baseline: DeterminismFacts) -> None:
    # Same machine type: bitwise equal; another CPU: only expected differences.
    errors = [f for f in compare(load(CPU_2_13), baseline) if f.severity is Severity.ERROR]
    assert errors == []


@pytest.mark.slow
def test_cuda_build_without_driver_runs_on_cpu(cuda_python: Path) -> None:
    d = run_suite(device="auto", seed=0, python=str(cuda_python))
    assert d.device == "cpu" and d.context["torch"].startswith("2.14.1")
    errors = [f for f in compare(load(CPU_2_14), d) if f.severity is Severity.ERROR]
    assert errors == []


@pytest.mark.slow
def test_negative_control_is_caught_run_to_run(
    cpu_python: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENVLOCK_DETERMINISM_PERTURB", "conv")
    d = run_suite(device="cpu", seed=0, python=str(cpu_python))
    assert [n for n, c in d.classes.items() if not c.run_to_run_identical] == ["conv"]
    # Another seed changes every output of the class; the classes that agree name none.
    assert d.classes["conv"].differing_ops == ["forward", "grad_input", "grad_weight", "grad_bias"]
    assert all(c.differing_ops == [] for n, c in d.classes.items() if n != "conv")
    findings = run_to_run_findings(d)
    ids = {(f.check_id, f.field) for f in findings}
    assert ("EL-DET-RUN-TO-RUN", "determinism.conv") in ids
    r2r = next(f for f in findings if f.check_id == "EL-DET-RUN-TO-RUN")
    assert "(forward, grad_input, grad_weight, grad_bias differ)" in r2r.message
    assert ("EL-DET-PERTURBED", "determinism") in ids


def test_cuda_requested_on_a_cpu_build_is_one_clear_error(cpu_python: Path) -> None:
    with pytest.raises(DeterminismError) as err:
        run_suite(device="cuda", python=str(cpu_python))
    assert "sees no CUDA device (a CPU-only torch build)" in str(err.value)


def test_cuda_requested_without_a_driver_is_one_clear_error(cuda_python: Path) -> None:
    with pytest.raises(DeterminismError, match="no usable NVIDIA driver or GPU"):
        run_suite(device="cuda", python=str(cuda_python))


@pytest.fixture(scope="module")
def python_without_torch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    venv = tmp_path_factory.mktemp("notorch") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    return venv / "bin" / "python"


def test_missing_torch_is_one_clear_error(python_without_torch: Path) -> None:
    with pytest.raises(DeterminismError) as err:
        run_suite(python=str(python_without_torch))
    msg = str(err.value)
    assert "torch is not importable" in msg and "No module named 'torch'" in msg
    assert "\n" not in msg


def test_not_an_interpreter(tmp_path: Path) -> None:
    with pytest.raises(DeterminismError, match="not an executable file"):
        run_suite(python=str(tmp_path / "nope"))


def test_timeout(cpu_python: Path) -> None:
    with pytest.raises(DeterminismError, match=r"did not finish within 0\.2 s"):
        run_suite(device="cpu", python=str(cpu_python), timeout=0.2)


def test_bad_device() -> None:
    with pytest.raises(UsageError):
        run_suite(device="tpu")


def test_suite_crash_reports_the_last_stderr_line(cpu_python: Path, tmp_path: Path) -> None:
    # An interpreter that dies before printing a result, like a segfaulting CUDA init.
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\necho 'Fatal Python error: boom' >&2\nexit 139\n")
    os.chmod(fake, 0o755)
    with pytest.raises(DeterminismError, match=r"failed \(exit 139\): Fatal Python error: boom"):
        run_suite(python=str(fake))
