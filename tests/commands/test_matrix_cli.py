"""envlock matrix through the real CLI in a subprocess."""

from __future__ import annotations

import json

from tests.conftest import FIXTURES, run_envlock
from tests.facts_builders import H100_FILE


def test_rtx_5090_on_driver_570() -> None:
    proc = run_envlock(["matrix", "--gpu", "RTX 5090", "--driver", "570.86"])
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "newest that runs: torch 2.11 cu128" in out
    assert 'pip install "torch==2.11.*" --index-url https://download.pytorch.org/whl/cu128' in out
    assert "upgrade the driver to >= 580.65.06" in out  # what torch 2.14 would need


def test_json_output() -> None:
    proc = run_envlock(
        ["matrix", "--capability", "7.0", "--driver", "580.65.06", "--format", "json"]
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["best"]["torch"] == "2.14" and doc["best"]["variant"] == "cu126"
    cu130 = next(f for f in doc["fits"] if f["torch"] == "2.14" and f["variant"] == "cu130")
    assert cu130["runs"] is False and "7.0" in cu130["problems"][0]
    assert set(doc["sources"]) >= {"N1", "T"}


def test_defaults_come_from_facts() -> None:
    proc = run_envlock(["matrix", "--facts", str(FIXTURES / H100_FILE), "--format", "json"])
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["capabilities"] == ["9.0"] and doc["driver"] == "580.65.06"
    assert doc["python"] == "3.11"
    assert (doc["best"]["torch"], doc["best"]["variant"]) == ("2.14", "cu130")


def test_nothing_runs_exits_1() -> None:
    proc = run_envlock(["matrix", "--capability", "3.0", "--driver", "580.65.06"])
    assert proc.returncode == 1
    assert "no official torch build runs here" in proc.stdout


def test_no_gpu_and_no_driver_is_a_usage_error() -> None:
    proc = run_envlock(["matrix", "--facts", str(FIXTURES / "facts.cpu-venv-nodriver.json")])
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "--gpu" in proc.stderr


def test_unknown_gpu_and_bad_driver_are_usage_errors() -> None:
    proc = run_envlock(["matrix", "--gpu", "Radeon RX 7900", "--driver", "570.86"])
    assert proc.returncode == 2 and "--capability" in proc.stderr
    proc = run_envlock(["matrix", "--gpu", "H100", "--driver", "latest"])
    assert proc.returncode == 2 and "--driver" in proc.stderr
    assert "Traceback" not in proc.stderr
