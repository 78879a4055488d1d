"""envlock doctor through the real CLI in a subprocess."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.conftest import FIXTURES, REPO, clean_env, run_envlock
from tests.facts_builders import H100_FILE, edit, gpu, h100_host, with_gpus

SCHEMA = json.loads((REPO / "schemas" / "findings.schema.json").read_text())
CUDA_VENV = str(FIXTURES / "facts.cuda-venv-nodriver.json")
H100 = str(FIXTURES / H100_FILE)


def _json(args: list[str], rc: int) -> dict[str, Any]:
    proc = run_envlock(["doctor", "--format", "json", *args])
    assert proc.returncode == rc, proc.stderr
    doc = json.loads(proc.stdout)
    jsonschema.validate(doc, SCHEMA)
    return doc


def _ids(doc: dict[str, Any]) -> set[str]:
    return {f["id"] for f in doc["findings"]}


def test_committed_h100_fixture_is_up_to_date() -> None:
    from tests.facts_builders import h100_json

    assert (FIXTURES / H100_FILE).read_text() == h100_json()


def test_clean_h100_passes() -> None:
    doc = _json(["--facts", H100], 0)
    assert doc["verdict"] == "pass" and doc["findings"] == []
    assert doc["command"] == "doctor" and doc["target"] == f"facts:{H100}"


def test_recorded_cuda_venv_in_a_container_fails() -> None:
    doc = _json(["--facts", CUDA_VENV], 1)
    assert doc["verdict"] == "fail" and doc["summary"]["error"] == 1
    (finding,) = [f for f in doc["findings"] if f["severity"] == "error"]
    assert finding["id"] == "EL-CONTAINER-NO-GPU"
    assert finding["fix"] and finding["evidence"]["driver.device_nodes"] == []


def test_ignore_removes_the_finding_and_the_failure() -> None:
    doc = _json(["--facts", CUDA_VENV, "--ignore", "EL-CONTAINER-NO-GPU,EL-FACTS-UNAVAILABLE"], 0)
    assert _ids(doc) == set()
    assert doc["details"]["ignored"] == ["EL-CONTAINER-NO-GPU", "EL-FACTS-UNAVAILABLE"]


def test_strict_flips_the_exit_code_on_a_warning(tmp_path: Path) -> None:
    two = with_gpus(h100_host(), gpu(h100_host()), gpu(h100_host(), index=1))
    facts = tmp_path / "facts.h100x2-persistence-off.json"
    facts.write_text(two.to_json())
    doc = _json(["--facts", str(facts)], 0)
    assert _ids(doc) == {"EL-PERSISTENCE-OFF"} and doc["summary"]["warning"] == 1
    strict = _json(["--facts", str(facts), "--strict"], 1)
    assert strict["verdict"] == "fail" and strict["strict"] is True


def test_expect_bf16_turns_a_note_into_an_error(tmp_path: Path) -> None:
    v100 = with_gpus(
        h100_host(), gpu(h100_host(), name="Tesla V100-SXM2-16GB", compute_capability="7.0")
    )
    facts = tmp_path / "facts.v100.json"
    facts.write_text(v100.to_json())
    plain = _json(
        ["--facts", str(facts), "--ignore", "EL-ARCH-UNSUPPORTED,EL-CUDNN-GPU-UNSUPPORTED"], 0
    )
    assert [f["severity"] for f in plain["findings"]] == ["info"]
    bf16 = _json(
        [
            "--facts",
            str(facts),
            "--ignore",
            "EL-ARCH-UNSUPPORTED,EL-CUDNN-GPU-UNSUPPORTED",
            "--expect",
            "bf16",
        ],
        1,
    )
    assert [f["id"] for f in bf16["findings"]] == ["EL-BF16-UNSUPPORTED"]


def test_text_report_starts_with_the_summary() -> None:
    proc = run_envlock(["doctor", "--facts", CUDA_VENV], env=clean_env(COLUMNS="200"))
    assert proc.returncode == 1
    first = proc.stdout.splitlines()[0]
    assert first.startswith("FAIL") and "1 error" in first
    assert "EL-CONTAINER-NO-GPU" in proc.stdout and "fix:" in proc.stdout


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (None, "not found"),
        ("{not json", "not valid JSON"),
        ('{"facts_version": 99}', "facts_version"),
    ],
    ids=["missing", "corrupt", "wrong-version"],
)
def test_bad_facts_file_is_one_line_and_exit_3(
    tmp_path: Path, content: str | None, says: str
) -> None:
    path = tmp_path / "bug-report.json"
    if content is not None:
        path.write_text(content)
    proc = run_envlock(["doctor", "--facts", str(path)])
    assert proc.returncode == 3
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0] and "Traceback" not in proc.stderr


def test_unknown_ignore_id_is_a_usage_error() -> None:
    proc = run_envlock(["doctor", "--facts", H100, "--ignore", "EL-NOPE"])
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "EL-NOPE" in proc.stderr


def test_list_checks() -> None:
    proc = run_envlock(["doctor", "--list-checks"])
    assert proc.returncode == 0
    rows = [line.split()[:3] for line in proc.stdout.splitlines()]
    ids = [r[0] for r in rows]
    assert "EL-ARCH-UNSUPPORTED" in ids and "EL-SHM-SMALL" in ids
    assert {"EL-VERIFY-DRIFT", "EL-DET-MISMATCH", "EL-FLEET-DIVERGENT"} <= set(ids)
    doctor = [r[0] for r in rows if r[2] == "doctor"]
    assert doctor == sorted(doctor) and ids[: len(doctor)] == doctor  # the doctor's first


@pytest.mark.venv
@pytest.mark.parametrize("which", ["cpu_python", "cuda_python"])
def test_doctor_on_the_real_venvs(which: str, request: pytest.FixtureRequest) -> None:
    python = request.getfixturevalue(which)
    proc = run_envlock(["doctor", "--python", str(python), "--format", "json"])
    assert proc.returncode in (0, 1), proc.stderr
    doc = json.loads(proc.stdout)
    jsonschema.validate(doc, SCHEMA)
    assert (proc.returncode == 1) == (doc["verdict"] == "fail")
    # the CPU venv never gets CUDA-build findings, the CUDA venv never the CPU-only one
    ids = _ids(doc)
    if which == "cpu_python":
        assert not ids & {"EL-CONTAINER-NO-GPU", "EL-NO-DRIVER", "EL-CUDNN-INCOMPATIBLE"}
    else:
        assert "EL-TORCH-CPU-ONLY" not in ids and "EL-CUDNN-INCOMPATIBLE" not in ids


def test_edit_helper_leaves_the_recording_alone() -> None:
    edited = edit(h100_host(), "system.shm_total_bytes", 1)
    assert edited.system.shm_total_bytes == 1
    assert h100_host().system.shm_total_bytes != 1


@pytest.mark.venv
def test_toolkit_on_ld_library_path_is_at_most_information(cuda_python: Path) -> None:
    """A real probe in the CUDA venv with LD_LIBRARY_PATH at the CUDA 13.0 toolkit: torch's
    libraries carry DT_RPATH, so every CUDA library comes from the wheels and nothing is
    shadowed (issue 10, item 7)."""
    lib64 = Path("/usr/local/cuda/lib64")
    if not (lib64 / "libcudart.so.13").exists():
        pytest.skip("no CUDA 13 toolkit in /usr/local/cuda")
    proc = run_envlock(
        ["doctor", "--python", str(cuda_python), "--format", "json"],
        env=clean_env(LD_LIBRARY_PATH=str(lib64)),
    )
    assert proc.returncode in (0, 1), proc.stderr
    doc = json.loads(proc.stdout)
    shadow = [f for f in doc["findings"] if f["id"] == "EL-LD-LIBRARY-PATH-SHADOW"]
    assert [f["severity"] for f in shadow] in ([], ["info"]), shadow
    if shadow:
        assert shadow[0]["evidence"]["loaded_from_there"] == []
        assert shadow[0]["evidence"]["torch_live_libraries_seen"] > 0


@pytest.mark.venv
def test_toolkit_on_ld_library_path_without_live_facts_reads_rpath(cuda_python: Path) -> None:
    """The same, with --no-torch-live: judged from libtorch_cuda.so's DT_RPATH, read by the
    probe from the real wheel."""
    lib64 = Path("/usr/local/cuda/lib64")
    if not (lib64 / "libcudart.so.13").exists():
        pytest.skip("no CUDA 13 toolkit in /usr/local/cuda")
    proc = run_envlock(
        ["doctor", "--python", str(cuda_python), "--no-torch-live", "--format", "json"],
        env=clean_env(LD_LIBRARY_PATH=str(lib64)),
    )
    assert proc.returncode in (0, 1), proc.stderr
    doc = json.loads(proc.stdout)
    (shadow,) = [f for f in doc["findings"] if f["id"] == "EL-LD-LIBRARY-PATH-SHADOW"]
    assert shadow["severity"] == "info" and "DT_RPATH" in shadow["message"]
    assert shadow["evidence"]["torch.lib_search_path"] == "rpath"
