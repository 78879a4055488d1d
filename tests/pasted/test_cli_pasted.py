"""The pasted-report options through the real CLI: doctor/lock/verify/probe, stdin, and bad
input as one line with exit 3 (never a traceback)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, REPO, clean_env, run_envlock

CE = FIXTURES / "collect_env"


def test_doctor_reads_a_pasted_report_and_names_what_it_could_not_check() -> None:
    proc = run_envlock(
        ["doctor", "--collect-env", str(CE / "pytorch-110153.txt"), "--format", "json"]
    )
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert "EL-ARCH-UNSUPPORTED" in {f["id"] for f in doc["findings"]}
    not_checked = doc["details"]["not_checked"]
    assert any(
        x.startswith("EL-CUDNN-INCOMPATIBLE: needs the cuDNN torch loaded") for x in not_checked
    )
    text = run_envlock(["doctor", "--collect-env", str(CE / "pytorch-110153.txt")])
    # after the findings, checks that lack the same facts on one line
    tail = text.stdout[text.stdout.index("NOT CHECKED") :]
    assert "\n  EL-SHM-SMALL: needs /dev/shm's size\n" in tail
    assert "\n  EL-CUDNN-INCOMPATIBLE, EL-CUDNN-SHADOWED: needs the cuDNN torch loaded\n" in tail


def test_stdin() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "envlock", "doctor", "--collect-env", "-", "--format", "json"],
        input=(CE / "pytorch-122924.txt").read_text(),
        capture_output=True,
        text=True,
        env=clean_env(),
        cwd=REPO,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout)["target"] == "collect-env:-"
    assert "EL-TORCH-CPU-ONLY" in proc.stdout


def test_nvidia_smi_and_pip_freeze_alone() -> None:
    proc = run_envlock(
        [
            "doctor",
            "--nvidia-smi",
            str(FIXTURES / "nvidia_smi" / "digits-2005.txt"),
            "--pip-freeze",
            str(FIXTURES / "pip_freeze" / "torch-cpu-venv.txt"),
            "--format",
            "json",
        ]
    )
    doc = json.loads(proc.stdout)
    ids = {f["id"] for f in doc["findings"]}
    # the K40s are in E. Process mode; torch 2.13.0+cpu on a machine with GPUs
    assert {"EL-GPU-COMPUTE-MODE", "EL-TORCH-CPU-ONLY"} <= ids
    assert proc.returncode == 1


def test_lock_and_verify_from_pasted_reports(tmp_path: Path) -> None:
    lock = tmp_path / "envlock.lock.toml"
    made = run_envlock(["lock", "--collect-env", str(CE / "vllm-13497.txt"), "-o", str(lock)])
    assert made.returncode == 0, made.stderr
    assert 'name = "NVIDIA GeForce RTX 4090"' in lock.read_text()
    same = run_envlock(["verify", str(lock), "--collect-env", str(CE / "vllm-13497.txt")])
    assert same.returncode == 0, same.stdout + same.stderr
    other = run_envlock(["verify", str(lock), "--collect-env", str(CE / "vllm-12378.txt")])
    assert other.returncode == 1
    assert "NVIDIA A100-SXM4-40GB" in other.stdout


def test_probe_json_of_a_pasted_report() -> None:
    proc = run_envlock(["probe", "--json", "--collect-env", str(CE / "vllm-4313.txt")])
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["torch"]["version"] == "2.2.1"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x00\x01\x02binary" * 1000, "is not text (binary data)"),
        (b"just some words\nnothing else\n", "no collect_env fields found"),
        (b"", "no collect_env fields found"),
    ],
    ids=["binary", "no-fields", "empty"],
)
def test_bad_input_is_one_line_exit_3(tmp_path: Path, content: bytes, message: str) -> None:
    bad = tmp_path / "paste.txt"
    bad.write_bytes(content)
    proc = run_envlock(["doctor", "--collect-env", str(bad)])
    assert proc.returncode == 3
    assert message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr


def test_a_50_mb_paste_is_refused_before_it_is_read(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    with big.open("wb") as f:
        f.truncate(50 * 2**20)
    proc = run_envlock(["doctor", "--collect-env", str(big)])
    assert proc.returncode == 3
    assert "larger than 16 MiB" in proc.stderr and "Traceback" not in proc.stderr


def test_a_report_cut_mid_line_gives_partial_facts(tmp_path: Path) -> None:
    text = (CE / "espnet-5629.txt").read_text()
    cut = tmp_path / "cut.txt"
    cut.write_text(
        text[: text.index("Nvidia driver version: 460") + len("Nvidia driver version: 46")]
    )
    proc = run_envlock(["doctor", "--collect-env", str(cut), "--format", "json"])
    doc = json.loads(proc.stdout)
    # "46" is not a driver version: not observed, so the driver check is listed as not run
    assert "EL-DRIVER-TOO-OLD" not in {f["id"] for f in doc["findings"]}
    assert any(x.startswith("EL-DRIVER-TOO-OLD: needs") for x in doc["details"]["not_checked"])


def test_pasted_sources_exclude_other_targets() -> None:
    proc = run_envlock(["doctor", "--collect-env", str(CE / "vllm-3842.txt"), "--facts", "x.json"])
    assert proc.returncode == 2
    two_stdin = run_envlock(["doctor", "--collect-env", "-", "--pip-freeze", "-"])
    assert two_stdin.returncode == 2


def test_rocm_report_gets_no_nvidia_errors() -> None:
    proc = run_envlock(
        ["doctor", "--collect-env", str(CE / "pytorch-44106-rocm.txt"), "--format", "json"]
    )
    assert proc.returncode == 0, proc.stdout
    doc = json.loads(proc.stdout)
    assert [f["id"] for f in doc["findings"] if f["severity"] == "error"] == []


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "paste.fifo"
    os.mkfifo(fifo)
    proc = run_envlock(["doctor", "--collect-env", str(fifo)], timeout=60)
    assert proc.returncode == 3
    assert "not a regular file" in proc.stderr and "Traceback" not in proc.stderr


def test_a_line_longer_than_any_report_line_is_skipped_and_said(tmp_path: Path) -> None:
    """Issue 19: one 400 KB line ran `report --collect-env` past 60 s. A line past the bound
    is skipped, and doctor's and report's output say so; the rest of the report is read."""
    paste = tmp_path / "paste.txt"
    text = (CE / "pytorch-150733.txt").read_text()
    paste.write_text("Found GPU1 x" * 40_000 + "\n" + text + "\n" + " " * 9000 + "x\n")
    said = "paste.txt: 2 lines longer than 8192 characters skipped (no report is that long)"
    doctor = run_envlock(["doctor", "--collect-env", str(paste)])
    assert doctor.returncode == 1, doctor.stderr  # the report's own finding, as without them
    assert "EL-ARCH-UNSUPPORTED" in doctor.stdout and said in doctor.stdout
    report = run_envlock(["report", "--collect-env", str(paste)])
    assert report.returncode == 0, report.stderr
    notes = report.stdout[report.stdout.index("<summary>Notes</summary>") :]
    assert [n for n in notes.splitlines() if n.startswith("- ") and n.endswith(said)]


def test_a_paste_of_only_overlong_lines_is_one_line_exit_3(tmp_path: Path) -> None:
    paste = tmp_path / "freeze.txt"
    paste.write_text("torch==" + "2" * 20_000 + "\n")
    proc = run_envlock(["doctor", "--pip-freeze", str(paste)])
    assert proc.returncode == 3
    assert proc.stderr.strip().splitlines() == [
        f"envlock: error: {paste}: no 'name==version' lines found (expected `pip freeze`); "
        "1 line longer than 8192 characters skipped"
    ]


def test_a_paste_of_a_million_line_breaks_reads_its_first_lines(tmp_path: Path) -> None:
    paste = tmp_path / "paste.txt"
    paste.write_text((CE / "pytorch-150733.txt").read_text() + "\n" * 1_000_000)
    proc = run_envlock(["doctor", "--collect-env", str(paste), "--format", "json"])
    assert proc.returncode == 1, proc.stderr
    notes = json.loads(proc.stdout)["findings"]
    assert "lines after the 20000th skipped" in json.dumps(notes)
