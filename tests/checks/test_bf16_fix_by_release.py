"""EL-BF16-UNSUPPORTED's fix names the loss scaler the installed torch has (session 6
review, helper X): torch.amp.GradScaler is torch 2.3's; torch 1.6-2.2 have
torch.cuda.amp.GradScaler; before 1.6 torch had no native mixed precision (NVIDIA apex).
Below compute capability 7.0 there are no tensor cores: fp16 saves memory, not time."""

from __future__ import annotations

import pytest

from envlock.checks.registry import run_checks
from envlock.pasted import facts_from_texts
from tests.conftest import FIXTURES

CE = FIXTURES / "collect_env"


def _fix(name: str) -> str:
    found = run_checks(facts_from_texts(collect_env=(CE / name).read_text()))
    (f,) = [f for f in found if f.check_id == "EL-BF16-UNSUPPORTED"]
    return f.fix or ""


@pytest.mark.parametrize(
    ("name", "scaler", "not_said"),
    [
        ("pytorch-51858.txt", "torch.cuda.amp.GradScaler", "torch.amp."),  # 2.0.1, 1050 Ti
        ("pytorch-30071.txt", "apex", "GradScaler"),  # 1.3.1 on TITAN Xp
        ("vllm-7557.txt", "torch.amp.GradScaler", "torch.cuda.amp"),  # 2.3.1, MX330
        ("espnet-5556.txt", "torch.cuda.amp.GradScaler", "torch.amp."),  # 2.1.0, V100
    ],
)
def test_the_scaler_is_the_installed_torchs(name: str, scaler: str, not_said: str) -> None:
    fix = _fix(name)
    assert scaler in fix and not_said not in fix, fix


def test_no_tensor_cores_below_7_0_is_said() -> None:
    fix = _fix("pytorch-51858.txt")  # GTX 1050 Ti (6.1)
    assert fix.startswith("train in fp32") and "tensor cores" in fix, fix
    fix = _fix("espnet-5556.txt")  # V100 (7.0): fp16 on tensor cores is the road
    assert fix.startswith("train in fp16"), fix
