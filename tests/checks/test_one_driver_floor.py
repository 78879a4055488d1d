"""One driver upgrade for one machine (session 6 review, helper X): vllm#6099's torch
2.3.0+cu118 on driver 470 was told ">= 520.61.05" by EL-DRIVER-MINOR-COMPAT and ">=
525.60.13" by EL-TRITON-DRIVER-TOO-OLD; a user taking the first still cannot load
Triton's kernels. The minor-compat fix names the driver that clears both."""

from __future__ import annotations

import pytest

from envlock.checks.registry import run_checks
from envlock.pasted import facts_from_texts
from tests.conftest import FIXTURES

CE = FIXTURES / "collect_env"


@pytest.mark.parametrize("name", ["vllm-6099.txt", "vllm-7112.txt"])
def test_minor_compat_names_the_triton_floor(name: str) -> None:
    found = {
        f.check_id: f for f in run_checks(facts_from_texts(collect_env=(CE / name).read_text()))
    }
    triton = found["EL-TRITON-DRIVER-TOO-OLD"].evidence["needed_driver"]
    minor = found["EL-DRIVER-MINOR-COMPAT"]
    assert (minor.fix or "").startswith(f"upgrade the NVIDIA driver to >= {triton}"), minor.fix
    assert minor.evidence["fix.roads"][0]["driver_at_least"] == triton
