"""`envlock determinism`, `lock --determinism` and `verify` through the real CLI (CPU venv)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import tomllib

from envlock.determinism import CLASSES
from tests.conftest import clean_env, run_envlock

pytestmark = pytest.mark.venv


@pytest.mark.slow
def test_determinism_json(cpu_python: Path) -> None:
    proc = run_envlock(
        [
            "determinism",
            "--device",
            "cpu",
            "--seed",
            "1234",
            "--format",
            "json",
            "--python",
            str(cpu_python),
        ]
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["command"] == "determinism" and doc["verdict"] == "pass"
    d = doc["details"]["determinism"]
    assert d["seed"] == 1234 and d["device"] == "cpu"
    assert list(d["classes"]) == list(CLASSES)
    assert all(c["run_to_run_identical"] for c in d["classes"].values())


@pytest.mark.slow
def test_determinism_text_table(cpu_python: Path) -> None:
    proc = run_envlock(["determinism", "--device", "cpu", "--python", str(cpu_python)])
    assert proc.returncode == 0, proc.stderr
    for name in CLASSES:
        assert re.search(rf"^\s*{name}\s+[0-9a-f]{{12}}\s.*\sok\s", proc.stdout, re.M), name
    assert "torch 2.13.0" in proc.stdout and "PASS" in proc.stdout


@pytest.mark.slow
def test_determinism_negative_control_exits_1_naming_the_class(cpu_python: Path) -> None:
    proc = run_envlock(
        ["determinism", "--device", "cpu", "--format", "json", "--python", str(cpu_python)],
        env=clean_env(ENVLOCK_DETERMINISM_PERTURB="attention"),
    )
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    errors = [(f["id"], f["field"]) for f in doc["findings"] if f["severity"] == "error"]
    assert errors == [("EL-DET-RUN-TO-RUN", "determinism.attention")]


def test_determinism_without_torch_is_exit_3_one_line(tmp_path: Path) -> None:
    import subprocess
    import sys

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    proc = run_envlock(["determinism", "--python", str(venv / "bin" / "python")])
    assert proc.returncode == 3
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "torch is not importable" in proc.stderr


def test_determinism_cuda_on_cpu_torch_is_exit_3(cpu_python: Path) -> None:
    proc = run_envlock(["determinism", "--device", "cuda", "--python", str(cpu_python)])
    assert proc.returncode == 3
    assert "sees no CUDA device" in proc.stderr and "Traceback" not in proc.stderr


def test_determinism_bad_device_is_usage_error() -> None:
    proc = run_envlock(["determinism", "--device", "tpu"])
    assert proc.returncode == 2


# ------------------------------------------------------------ lock + verify
@pytest.fixture(scope="module")
def lock_path(cpu_python: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("lock") / "envlock.lock.toml"
    proc = run_envlock(["lock", "--determinism", "--python", str(cpu_python), "-o", str(path)])
    assert proc.returncode == 0, proc.stderr
    return path


def test_lock_holds_the_determinism_table(lock_path: Path) -> None:
    table = tomllib.loads(lock_path.read_text())["determinism"]
    assert table["device"] == "cpu" and table["seed"] == 0 and table["suite-version"] == 1
    assert list(table["classes"]) == list(CLASSES)
    assert table["context"]["torch"].startswith("2.13.0")
    assert table["settings"]["deterministic-algorithms"] == "true"


@pytest.mark.slow
def test_verify_on_the_same_machine_passes(lock_path: Path, cpu_python: Path) -> None:
    proc = run_envlock(["verify", str(lock_path), "--python", str(cpu_python), "--format", "json"])
    doc = json.loads(proc.stdout)
    det = [f for f in doc["findings"] if f["id"].startswith("EL-DET")]
    assert det == [] and proc.returncode == 0, (proc.stderr, doc["findings"])


@pytest.mark.slow
def test_verify_with_an_edited_digest_fails_naming_the_class(
    lock_path: Path, cpu_python: Path, tmp_path: Path
) -> None:
    text = lock_path.read_text()
    m = re.search(r'(\[determinism\.classes\.conv\]\ndigest = "sha256:)([0-9a-f])', text)
    assert m is not None
    edited = text[: m.end(1)] + ("0" if m.group(2) != "0" else "1") + text[m.end(2) :]
    bad = tmp_path / "edited.lock.toml"
    bad.write_text(edited)
    proc = run_envlock(["verify", str(bad), "--python", str(cpu_python), "--format", "json"])
    assert proc.returncode == 1, proc.stderr
    det = [
        (f["id"], f["field"])
        for f in json.loads(proc.stdout)["findings"]
        if f["id"].startswith("EL-DET")
    ]
    assert det == [("EL-DET-MISMATCH", "determinism.conv")]
    text_proc = run_envlock(["verify", str(bad), "--python", str(cpu_python)])
    assert text_proc.returncode == 1 and "determinism.conv" in text_proc.stdout


def test_verify_with_a_corrupt_determinism_table_is_exit_3(
    lock_path: Path, tmp_path: Path, cpu_python: Path
) -> None:
    text = lock_path.read_text().replace(
        "[determinism.classes.rng.summary]\nsum = ",
        '[determinism.classes.rng.summary]\nsum = "x"\nold = ',
    )
    bad = tmp_path / "corrupt.lock.toml"
    bad.write_text(text)
    proc = run_envlock(["verify", str(bad), "--python", str(cpu_python)])
    assert proc.returncode == 3, (proc.stdout, proc.stderr)
    assert "'determinism.classes.rng.summary.sum'" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.slow
def test_api_verify_recomputes_digests_like_the_cli(lock_path: Path, cpu_python: Path) -> None:
    """The one front door: envlock.verify_lock recomputes the lock's digests (the old
    api.verify never did, then advised running verify without --no-determinism)."""
    script = (
        "import json, sys, envlock\n"
        "r = envlock.verify_lock(sys.argv[1])\n"
        "off = envlock.verify_lock(sys.argv[1], determinism=False)\n"
        "ids = lambda rep: sorted({f.check_id for f in rep.findings})\n"
        "print(json.dumps([ids(r), ids(off)]))\n"
    )
    proc = subprocess.run(
        [str(cpu_python), "-c", script, str(lock_path)],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    recomputed, skipped = json.loads(proc.stdout)
    assert "EL-VERIFY-DETERMINISM-SKIPPED" not in recomputed
    assert not [i for i in recomputed if i.startswith("EL-DET")]
    assert "EL-VERIFY-DETERMINISM-SKIPPED" in skipped


def test_verify_ignore_drops_a_finding_kind(lock_path: Path, cpu_python: Path) -> None:
    args = ["verify", str(lock_path), "--python", str(cpu_python), "--no-determinism"]
    proc = run_envlock([*args, "--format", "json"])
    ids = {f["id"] for f in json.loads(proc.stdout)["findings"]}
    assert "EL-VERIFY-DETERMINISM-SKIPPED" in ids, proc.stderr
    proc = run_envlock([*args, "--format", "json", "--ignore", "EL-VERIFY-DETERMINISM-SKIPPED"])
    doc = json.loads(proc.stdout)
    assert "EL-VERIFY-DETERMINISM-SKIPPED" not in {f["id"] for f in doc["findings"]}
    assert doc["details"]["ignored"] == ["EL-VERIFY-DETERMINISM-SKIPPED"]
    proc = run_envlock([*args, "--ignore", "EL-NOT-A-THING"])
    assert proc.returncode == 2 and "EL-NOT-A-THING" in proc.stderr
    proc = run_envlock([*args, "--ignore", "EL-SHM-SMALL"])  # a doctor ID: not verify's
    assert proc.returncode == 2 and "another command" in proc.stderr
