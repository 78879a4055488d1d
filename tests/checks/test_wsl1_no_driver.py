"""A CUDA build of torch under WSL 1 is EL-NO-DRIVER, said by the kernel (session 8's
held-out miss ShivamShrirao-diffusers-18, a class).

The report is `diffusers-cli env` on `Linux-4.4.0-19041-Microsoft-x86_64-with-glibc2.31`
with torch 1.12.1+cu116 and no GPU: WSL 1, which has no GPU support (CUDA on WSL needs WSL
2). The paste names no driver, which alone is "not observed"; WSL 1's kernel is why none
can be. WSL 2's kernel, or a paste with no kernel, keeps "not observed".
"""

from __future__ import annotations

from envlock.checks.registry import run_checks
from envlock.checks.wsl import wsl1
from envlock.findings import Finding
from envlock.pasted import facts_from_texts
from tests.conftest import FIXTURES

# scored in session 8's held-out part, a tuning report since session 9
TEXT = (FIXTURES / "collect_env" / "ShivamShrirao-diffusers-18.txt").read_text()
WSL2 = "Linux-5.15.153.1-microsoft-standard-WSL2-x86_64-with-glibc2.35"


def _no_driver(text: str) -> list[Finding]:
    found = run_checks(facts_from_texts(collect_env=text))
    return [f for f in found if f.check_id == "EL-NO-DRIVER"]


def test_wsl1_kernel_is_no_driver_with_the_wsl2_road() -> None:
    (f,) = _no_driver(TEXT)
    assert "WSL 1" in (f.fix or "") and "wsl --set-version" in (f.fix or ""), f.fix
    assert "4.4.0-19041-Microsoft" in (f.fix or ""), f.fix


def test_wsl2_kernel_stays_not_observed() -> None:
    text = TEXT.replace("Linux-4.4.0-19041-Microsoft-x86_64-with-glibc2.31", WSL2)
    assert _no_driver(text) == []


def test_the_kernel_releases() -> None:
    assert wsl1("4.4.0-19041-Microsoft")
    assert wsl1("4.4.0-22621-Microsoft")
    assert not wsl1("5.15.153.1-microsoft-standard-WSL2")
    assert not wsl1("5.15.0-105-generic")
    assert not wsl1(None)
