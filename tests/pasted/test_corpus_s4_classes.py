"""The classes session 4's tuning reports missed (issue 21, batch issue21-s4), each on the
real report it was found on (tests/fixtures/collect_env/, the tuning part: never the
held-out part) and on one where the rule must not fire."""

from __future__ import annotations

import pytest

from envlock.checks import run_checks
from envlock.checks.triage import top_finding
from envlock.errors import FactsError
from envlock.findings import Finding, Severity
from envlock.pasted import facts_from_texts
from tests.conftest import REPO

TUNING = REPO / "tests" / "fixtures" / "collect_env"


def _findings(name: str) -> list[Finding]:
    return run_checks(facts_from_texts(collect_env=(TUNING / name).read_text()))


def _top(name: str) -> str | None:
    top = top_finding(_findings(name))
    return top.check_id if top else None


def test_a_gpu_torch_warned_about_counts_when_the_report_lists_no_gpu() -> None:
    """vllm#20173, a digest flattened onto one line and cut before its GPU lines: torch's own
    warning names the GPU ('NVIDIA B200 with CUDA capability sm_100 is not compatible') and
    its arch list (sm_50 ... sm_90): that GPU is the report's, with its capability."""
    facts = facts_from_texts(collect_env=(TUNING / "vllm-20173.txt").read_text())
    assert facts.driver.gpus is not None
    assert [(g.name, g.compute_capability) for g in facts.driver.gpus] == [("NVIDIA B200", "10.0")]
    assert _top("vllm-20173.txt") == "EL-ARCH-UNSUPPORTED"


def test_gpu_lines_win_over_the_warning() -> None:
    """pytorch#150733 lists its GPU and carries the warning: one GPU, not two."""
    facts = facts_from_texts(collect_env=(TUNING / "pytorch-150733.txt").read_text())
    assert facts.driver.gpus is not None and len(facts.driver.gpus) == 1


def test_cpu_build_where_nvidia_smi_answered_nothing_is_no_error() -> None:
    """vllm#4287: torch 2.2.1+cpu for vLLM's CPU backend; GPU models and driver 'Could not
    collect' (nvidia-smi found nothing), a CUDA toolkit installed: no GPU is visible here,
    so the CPU build is what this machine runs, not an error."""
    errors = [f.check_id for f in _findings("vllm-4287.txt") if f.severity is Severity.ERROR]
    assert errors == []


def test_cpu_build_beside_a_listed_gpu_is_still_an_error() -> None:
    """vllm#15258: torch 2.6.0+cpu with an RTX 3060 listed: the CPU-only build is the cause."""
    assert _top("vllm-15258.txt") == "EL-TORCH-CPU-ONLY"


def test_an_excerpt_of_torchs_warnings_only_is_read() -> None:
    """vllm#18818, an issue digest cut before collect_env's first key: only torch's own
    'Found GPU0 NVIDIA TITAN V which is of cuda capability 7.0 ... too old' warnings. They
    are read (the GPU and its capability), not refused as 'no collect_env fields found'."""
    facts = facts_from_texts(collect_env=(TUNING / "vllm-18818.txt").read_text())
    assert facts.driver.gpus is not None
    assert {(g.name, g.compute_capability) for g in facts.driver.gpus} == {
        ("NVIDIA TITAN V", "7.0")
    }
    assert facts.torch.version is None


def test_a_text_without_collect_env_or_torchs_warnings_is_still_refused() -> None:
    with pytest.raises(FactsError):
        facts_from_texts(collect_env="Found GPU0 in the attic, no warning here\nhello\n")


def test_the_matrix_reads_the_drivers_cuda_from_torchs_warning() -> None:
    """espnet#5556: torch 2.1.0+cu121 printed 'The NVIDIA driver on your system is too old
    (found version 11070)'; the excerpt ends before the driver line. The matrix judges the
    builds on a driver for CUDA 11.7 (its oldest, 515.43.04) and picks one that runs on it
    (a CUDA 11.x wheel through minor-version compatibility), not the newest cu12x."""
    from envlock.api import matrix_advice
    from envlock.collect import Source

    advice = matrix_advice(Source(collect_env=str(TUNING / "espnet-5556.txt")))
    assert advice.driver == "515.43.04"
    assert advice.best is not None and "/whl/cu11" in advice.best.pip


def test_driver_too_old_offers_the_same_release_for_the_drivers_cuda_first() -> None:
    """espnet#5556 again: with only the driver's CUDA (11.7) known, the doctor's first road
    is torch 2.1 built for CUDA 11.8 (runs on an 11.x driver), then the driver upgrade; it
    offered the driver alone, and a driver upgrade is the costlier road."""
    (f,) = [f for f in _findings("espnet-5556.txt") if f.check_id == "EL-DRIVER-TOO-OLD"]
    assert f.fix is not None
    assert f.fix.startswith("install torch built for an older CUDA")
    assert '"torch==2.1.*"' in f.fix and "/whl/cu118" in f.fix
    assert "upgrade the NVIDIA driver" in f.fix
