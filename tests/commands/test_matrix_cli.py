"""envlock matrix through the real CLI in a subprocess."""

from __future__ import annotations

import json
import sys
from pathlib import Path

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


# ------------------------------------------------- issue 10, item 6: never guess
def test_unknown_driver_is_never_a_plain_yes() -> None:
    proc = run_envlock(["matrix", "--gpu", "A100", "--python-version", "3.12", "--format", "json"])
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["driver"] is None
    assert all(f["runs"] is not True for f in doc["fits"])
    cu132 = next(f for f in doc["fits"] if f["torch"] == "2.14" and f["variant"] == "cu132")
    assert cu132["runs_with_driver_at_least"] == "580.65.06"
    assert any("depends on the driver: needs >= 580.65.06" in c for c in cu132["caveats"])
    text = run_envlock(["matrix", "--gpu", "A100", "--python-version", "3.12"]).stdout
    assert "with a driver >= " in text and " yes " not in text


def test_capability_13_gets_no_promised_ptx_from_the_2_14_cu130_wheel() -> None:
    proc = run_envlock(
        ["matrix", "--capability", "13.0", "--driver", "580.65.06", "--all", "--format", "json"]
    )
    doc = json.loads(proc.stdout)
    cu130 = next(f for f in doc["fits"] if f["torch"] == "2.14" and f["variant"] == "cu130")
    assert cu130["runs"] is False  # sm_120 SASS only, no compute_120 (the real wheel)
    # 2.13 cu130's PyPI wheel (WH213) has no compute_120 either; its cu132 lists 12.0+PTX
    # from the build matrix only: UNVERIFIED, so "?" not "yes"
    cu130_213 = next(f for f in doc["fits"] if f["torch"] == "2.13" and f["variant"] == "cu130")
    assert cu130_213["runs"] is False
    cu132_213 = next(f for f in doc["fits"] if f["torch"] == "2.13" and f["variant"] == "cu132")
    assert cu132_213["runs"] is not True and "UNVERIFIED" in " ".join(cu132_213["caveats"])


def test_turing_and_kepler_names() -> None:
    for name, cc in (
        ("RTX 2080 Ti", "7.5"),
        ("NVIDIA GeForce GTX 1660 SUPER", "7.5"),
        ("Tesla K80", "3.7"),
        ("NVIDIA L20", "8.9"),
        ("NVIDIA H800", "9.0"),
    ):
        proc = run_envlock(["matrix", "--gpu", name, "--driver", "470.82.01", "--format", "json"])
        assert proc.returncode in (0, 1), (name, proc.stderr)
        assert json.loads(proc.stdout)["capabilities"] == [cc], name


def test_aarch64_systems_are_answered_with_the_builds_published_for_arm() -> None:
    """Grace systems get the aarch64 CUDA wheels (torch 2.7 cu128 on: matrix/arm.py), each
    saying its arch list is its variant's x86_64 one; a Jetson still gets no build."""
    for name in ("GH200", "NVIDIA GB10"):
        proc = run_envlock(["matrix", "--gpu", name, "--driver", "580.65.06"])
        assert proc.returncode == 0, (name, proc.stdout)
        assert "does not apply" not in proc.stdout and "aarch64 wheel" in proc.stdout
        if name == "GH200":  # cu126 has sm_90 kernels: only Arm rules it out
            assert "cu126 has no aarch64 CUDA wheel" in proc.stdout, proc.stdout
    proc = run_envlock(["matrix", "--gpu", "AGX Orin", "--driver", "540.4.0"])
    assert proc.returncode == 1 and "does not apply" in proc.stdout and "JetPack" in proc.stdout


def test_python_is_the_probed_one_and_hidden_releases_say_why() -> None:
    proc = run_envlock(["matrix", "--gpu", "H100", "--driver", "580.65.06"])
    assert proc.returncode == 0, proc.stderr
    probed = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert f"Python: {probed}" in proc.stdout
    # every release has an arch list (torch.toml): hidden builds say why, none "cannot tell"
    assert "no kernels for compute capability 9.0 (wheel has 3.7;5.0;6.0;7.0)" in proc.stdout
    assert "cannot tell" not in proc.stdout
    proc = run_envlock(["matrix", "--gpu", "H100", "--driver", "580.65.06", "--format", "json"])
    doc = json.loads(proc.stdout)
    assert doc["python"] == probed
    old = next(f for f in doc["fits"] if f["torch"] == "2.0" and f["variant"] == "cu118")
    assert old["runs"] is (sys.version_info < (3, 12))


def test_probed_aarch64_machine_gets_only_arm_builds(tmp_path: Path) -> None:
    facts = json.loads((FIXTURES / H100_FILE).read_text())
    facts["system"]["arch"] = "aarch64"  # edited: the H100 host as if it were a Grace system
    path = tmp_path / "facts.json"
    path.write_text(json.dumps(facts))
    proc = run_envlock(["matrix", "--facts", str(path), "--format", "json"])
    doc = json.loads(proc.stdout)
    assert "does_not_apply" not in doc, doc
    for f in doc["fits"]:
        if f["runs"]:
            assert int(f["variant"].removeprefix("cu")) >= 128, f
