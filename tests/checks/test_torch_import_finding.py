"""EL-TORCH-MISSING says why torch does not import where the paste shows torch's own error
(envlock/pasted/torch_import.py, read through pasted/toolenv.READERS; the words in
checks/runtime.py): the cause in the message, that cause's fix. A paste whose 'PyTorch
version: N/A' names no cause keeps the "first see why" fix
(tests/pasted/test_torch_import_unknown_paste.py), and an extension's import error is no
torch import failure at all.
"""

from __future__ import annotations

import pytest

from envlock.checks import run_checks
from envlock.checks.triage import top_finding
from envlock.errors import FactsError
from envlock.pasted import facts_from_texts
from tests.conftest import FIXTURES
from tests.pasted.test_torch_import_error import (
    ABSENT,
    FLASH_ATTN_SYMBOL,
    LINUX_CUDNN,
    LINUX_IJIT,
    TORCHVISION_SO,
    WIN_DLL_C,
)

CE = FIXTURES / "collect_env"


def _top(text: str) -> tuple[str, str, str]:
    top = top_finding(run_checks(facts_from_texts(collect_env=text)))
    assert top is not None
    return top.check_id, top.message, top.fix or ""


def test_kohyas_fbgemm_error_names_libomp_and_the_release_that_ships_it() -> None:
    """kohya-ss/sd-scripts#1597 (tuning corpus): torch 2.4.0's fbgemm.dll, WinError 126."""
    check, message, fix = _top((CE / "sd-scripts-1597.txt").read_text())
    assert check == "EL-TORCH-MISSING"
    assert "fbgemm.dll" in message and "collect_env" not in message, message
    assert "libomp140.x86_64.dll" in fix and "torch==2.4.1" in fix, fix


@pytest.mark.parametrize(
    "text,said,fixed",
    [
        (WIN_DLL_C, "DLL load failed", "vc_redist.x64.exe"),
        (LINUX_CUDNN, "libcudnn.so.8", "nvidia-* wheels"),
        (LINUX_IJIT, "iJIT_NotifyEvent", "mkl==2024.0"),
        (ABSENT, "No module named 'torch'", "pip install torch"),
    ],
    ids=["dll-c", "cudnn", "ijit", "absent"],
)
def test_a_traceback_alone_is_read_and_names_its_cause(text: str, said: str, fixed: str) -> None:
    check, message, fix = _top(text)
    assert check == "EL-TORCH-MISSING"
    assert said in message and fixed in fix, (message, fix)


def test_an_extensions_import_error_alone_is_not_a_report() -> None:
    """torchvision's _C wanting another CUDA runtime: torch imported; nothing to read."""
    with pytest.raises(FactsError):
        facts_from_texts(collect_env=TORCHVISION_SO)


def test_an_extensions_import_error_beside_a_report_is_no_torch_missing() -> None:
    """flash-attn's undefined symbol beside a collect_env that imported torch."""
    report = (CE / "vllm-4858.txt").read_text()
    ids = {f.check_id for f in run_checks(facts_from_texts(collect_env=report + FLASH_ATTN_SYMBOL))}
    assert "EL-TORCH-MISSING" not in ids


@pytest.mark.parametrize(
    "name,words",
    [
        # Python 2.7.17, driver 410.104, eight V100s: no official build supports this Python
        (
            "ghfile-uhhyunjoo-toolbox-v100-readme.txt",
            ("supports Python 2.7.17", "Python 3.6-3.9", '"torch==1.7.1+cu92"', "torch_stable"),
        ),
        # Python 3.7.4, driver 460.32.03, an A100: torch 1.13 is the last for Python 3.7
        ("ghfile-paddlepaddle-community-quick-install-rfc.txt", ('"torch==1.13.*"', "/cu117")),
    ],
)
def test_the_install_names_a_build_that_runs_on_the_pastes_python_and_driver(
    name: str, words: tuple[str, ...]
) -> None:
    """A bare `pip install torch` gives these machines a torch their Python or driver cannot
    run (tests/checks/test_fixes_recheck.py re-checks the roads)."""
    top = top_finding(run_checks(facts_from_texts(collect_env=(CE / name).read_text())))
    assert top is not None and top.check_id == "EL-TORCH-MISSING"
    assert all(w in (top.fix or "") for w in words), top.fix
    assert top.evidence.get("fix.roads"), top.evidence
