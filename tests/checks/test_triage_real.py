"""The top finding on real reports whose first reading was wrong (issue 21, session 3's
held-out part, scored once): a GPU no build serves is read before the driver, a driver
fix is offered only where a driver that new exists for the GPU (Windows numbers a
branch's releases past its branch number), and a driver that runs neither of two torch
installs is read before the two installs."""

from __future__ import annotations

import pytest

from envlock.checks import run_checks
from envlock.checks.triage import top_finding
from envlock.findings import Finding, Severity
from envlock.matrix import Version, load_matrix
from envlock.pasted import facts_from_texts
from tests.conftest import FIXTURES

CE = FIXTURES / "collect_env"


def _findings(name: str) -> list[Finding]:
    return run_checks(facts_from_texts(collect_env=(CE / name).read_text()))


def _by_id(findings: list[Finding], check_id: str) -> Finding:
    return next(f for f in findings if f.check_id == check_id)


def test_a_gpu_no_build_serves_is_read_before_its_driver() -> None:
    """pytorch/pytorch#31876: GeForce 210 (compute capability 1.2, last driver 342) with
    torch 1.2.0 cu100 on Windows 7: no official build runs on it (maintainer: 'not a
    supported card in our binary'), so a driver upgrade is no fix."""
    findings = _findings("pytorch-31876.txt")
    top = top_finding(findings)
    assert top is not None and top.check_id == "EL-GPU-UNSERVABLE"
    assert "EL-FAMILY-MISMATCH" in {f.check_id for f in findings}  # ranks after it
    # no driver upgrade offered: R340 is the last branch for the GPU, CUDA 10.0 needs R410
    assert not any("upgrade the NVIDIA driver" in (f.fix or "") for f in findings)
    assert "EL-DRIVER-TOO-OLD" not in {f.check_id for f in findings}


def test_a_driver_below_cuda_9_2_is_too_old_and_outranks_two_installs() -> None:
    """pytorch/pytorch#29301: Quadro M2000 (Maxwell) on Windows driver 391.74 with conda's
    pytorch 1.3.0 built for CUDA 9.2 (needs >= 397.44, NVIDIA's table) beside a pip torch
    1.3.1: the driver runs neither install."""
    findings = _findings("pytorch-29301.txt")
    driver = _by_id(findings, "EL-DRIVER-TOO-OLD")
    assert "397.44" in driver.message
    assert "upgrade the NVIDIA driver to >= 397.44" in driver.fix
    assert any(f.check_id == "EL-TORCH-TWO-INSTALLS" for f in findings)
    top = top_finding(findings)
    assert top is not None and top.check_id == "EL-DRIVER-TOO-OLD"


@pytest.mark.parametrize(
    ("cuda", "linux", "windows"),
    [
        ("9.2", "396.26", "397.44"),
        ("9.1", "390.46", "391.29"),
        ("9.0", "384.81", "385.54"),
        ("8.0", "367.48", "369.30"),
        ("7.5", "352.31", "353.66"),
        ("7.0", "346.46", "347.62"),
    ],
)
def test_toolkit_drivers_before_cuda_10(cuda: str, linux: str, windows: str) -> None:
    """NVIDIA's 'CUDA Toolkit and Compatible Driver Versions' rows for CUDA 7.0-9.2 (the
    GA release of each major.minor is its toolkit driver)."""
    m = load_matrix()
    assert m.toolkit_driver(Version.parse(cuda), "linux") == Version.parse(linux)
    assert m.toolkit_driver(Version.parse(cuda), "windows") == Version.parse(windows)


@pytest.mark.parametrize(
    ("needed", "cc", "exists"),
    [
        ("411.31", "1.2", False),  # CUDA 10.0's Windows driver: none for Tesla (last R340)
        ("342.01", "1.2", True),  # the last Windows driver for GeForce 8/9/200
        ("391.35", "2.1", True),  # Fermi's last Windows driver, R390 numbered 391
        ("397.44", "2.1", False),  # CUDA 9.2 needs R396: past Fermi's last branch
        ("474.44", "3.5", True),  # Kepler's Windows R470 releases are numbered up to 47x
        ("496.13", "3.5", False),  # R495 is past Kepler's last branch
        ("581.15", "6.1", True),  # Pascal's R580, numbered 581 on Windows
    ],
)
def test_a_windows_driver_exists_only_below_the_branch_after_the_last(
    needed: str, cc: str, exists: bool
) -> None:
    m = load_matrix()
    assert m.driver_exists_for(Version.parse(needed), [Version.parse(cc)], "windows") is exists


def _f(check_id: str) -> Finding:
    return Finding(check_id=check_id, severity=Severity.ERROR, message="m", fix="f")


def test_the_cause_no_fix_elsewhere_can_reach_comes_first() -> None:
    """Among errors: a GPU no build serves, then a missing or too old driver, then the
    rest (an install-level finding such as two torch installs is moot until then)."""
    install = _f("EL-TORCH-TWO-INSTALLS")
    family = _f("EL-FAMILY-MISMATCH")
    driver = _f("EL-DRIVER-TOO-OLD")
    gpu = _f("EL-GPU-UNSERVABLE")
    top = top_finding([install, family, driver, gpu])
    assert top is gpu
    assert top_finding([install, family, driver]) is driver
    assert top_finding([install, family]) is family
