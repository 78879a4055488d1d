"""The GPU truth kit (benchmarks/gpu_truth.sh) cannot rot between sessions that have a GPU:
its dry run here does every set-up step (wheels for the device, an offline install that
envlock imports with), collects every gpu test and sees each skipped with "no NVIDIA
GPU", and leaves only what the device tool can bring back."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.conftest import REPO, clean_env

KIT = REPO / "benchmarks" / "gpu_truth.sh"


def _kit(*args: str, out: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = clean_env(PYTHON=sys.executable)
    env.pop("PYTHONPATH")  # the kit runs from the checkout, as on the device
    if out is not None:
        env["OUT"] = str(out)
    return subprocess.run(
        ["bash", str(KIT), *args], capture_output=True, text=True, env=env, timeout=600
    )


def test_dry_run_collects_and_skips_every_gpu_test(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = _kit("--dry-run", out=out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    names = sorted(p.name for p in out.iterdir())
    assert names == ["junit.xml", "pytest.log", "summary.md"], names
    cases = list(ET.parse(out / "junit.xml").getroot().iter("testcase"))
    gpu = [c for c in cases if (c.get("classname") or "").startswith("tests.gpu.")]
    assert len(gpu) >= 10
    for case in gpu:
        skipped = case.find("skipped")
        assert skipped is not None and "no NVIDIA GPU" in skipped.get("message", ""), case.attrib
    summary = (out / "summary.md").read_text()
    assert "PROBLEM" not in summary and "pytest exit status: 0" in summary


def test_run_mode_refuses_without_the_device_tools_out(tmp_path: Path) -> None:
    proc = _kit()
    assert proc.returncode != 0
    assert "OUT is not set" in proc.stderr or "no wheels" in proc.stdout + proc.stderr


def test_unknown_option_is_one_line_exit_2() -> None:
    proc = _kit("--bogus")
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "unknown option" in proc.stderr
