"""torch missing on a machine PyPI has no torch wheel for (X3's review, session 8).

vllm#8996 ran collect_env on a RISC-V Fedora 38 host ('PyTorch version: N/A', riscv64): the
doctor's fix ended in `python -m pip install torch`, which there answers "No matching
distribution found for torch": PyPI and download.pytorch.org publish torch wheels for Linux
x86_64 and aarch64, Windows amd64 and macOS only (the files of every torch release). The fix
says so and names the roads that exist: a source build, or a build the OS or vendor ships.
Not on x86_64 (torchchat#1408) or aarch64, where pip's wheel is the road.
"""

from __future__ import annotations

from envlock.checks.registry import run_checks
from envlock.findings import Finding
from envlock.pasted import facts_from_texts
from tests.conftest import FIXTURES

CE = FIXTURES / "collect_env"


def _missing(text: str) -> Finding:
    found = run_checks(facts_from_texts(collect_env=text))
    (f,) = [f for f in found if f.check_id == "EL-TORCH-MISSING"]
    return f


def test_riscv64_gets_no_pip_install_of_a_wheel_that_does_not_exist() -> None:
    fix = _missing((CE / "vllm-8996.txt").read_text()).fix or ""
    assert "pip install torch" not in fix, fix
    assert "riscv64" in fix and "source" in fix, fix


def test_ppc64le_the_same() -> None:
    text = (CE / "vllm-8996.txt").read_text().replace("riscv64", "ppc64le")
    fix = _missing(text).fix or ""
    assert "pip install torch" not in fix and "ppc64le" in fix, fix


def test_x86_64_and_aarch64_keep_pips_wheel() -> None:
    text = (CE / "torchchat-1408.txt").read_text()
    assert "pip install torch" in (_missing(text).fix or "")
    arm = (CE / "vllm-8996.txt").read_text().replace("riscv64", "aarch64")
    assert "pip install torch" in (_missing(arm).fix or "")
