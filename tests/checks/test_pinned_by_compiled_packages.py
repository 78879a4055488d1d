"""Packages compiled against the installed torch keep it, not only vLLM (session 7
review, helper X2).

sglang#7083 and #8432 (sglang with sgl-kernel, torch 2.7 cu126 on a 550/535 driver) were
offered "or install the torch variant this driver fully supports: ... torch 2.7 cu118":
sgl-kernel's wheel is built with CUDA 12 against torch 2.7's CUDA 12 build, so a cu118
torch breaks it, as vLLM's does (hints.pinned_by). The driver upgrade is the road there.
"""

from __future__ import annotations

import pytest

from envlock.checks.registry import run_checks
from envlock.pasted import facts_from_texts
from tests.conftest import FIXTURES

CE = FIXTURES / "collect_env"


@pytest.mark.parametrize("name", ["sglang-7083.txt", "sglang-8432.txt"])
def test_sgl_kernel_keeps_its_torch_build(name: str) -> None:
    found = run_checks(facts_from_texts(collect_env=(CE / name).read_text()))
    (f,) = [f for f in found if f.check_id == "EL-DRIVER-MINOR-COMPAT"]
    fix = f.fix or ""
    assert "cu118" not in fix and "pip install" not in fix, fix
    assert fix.startswith("upgrade the NVIDIA driver") and "sgl-kernel" in fix, fix
