"""A report logged through OpenMMLab's logger (mmengine's MMFormatter, mmcv's logging default:
"04/22 04:09:09 - mmengine - INFO - ") is read without that prefix (envlock/pasted/
log_prefix.py), so MMDeploy's tools/check_env.py report is judged like OpenMMLab's own
(session 10, H7)."""

from __future__ import annotations

from envlock.checks import run_checks
from envlock.findings import Severity
from envlock.pasted import facts_from_texts
from envlock.pasted.log_prefix import undo_log_prefix
from tests.conftest import FIXTURES

CE = FIXTURES / "collect_env"


def test_mmdeploys_logged_check_env_is_read_and_healthy() -> None:
    facts = facts_from_texts(collect_env=(CE / "mmdeploy-2743.txt").read_text())
    assert facts.torch.version == "2.0.0+cu118"
    assert [g.name for g in facts.driver.gpus] == ["NVIDIA GeForce RTX 4060 Laptop GPU"]
    assert facts.cuda.toolkit is not None and facts.cuda.toolkit.nvcc_version == "11.8.89"
    assert [f.check_id for f in run_checks(facts) if f.severity >= Severity.ERROR] == []


def test_mmcvs_dated_prefix_goes_and_a_lone_logged_line_stays() -> None:
    logged = [
        "2021-03-01 12:00:00,123 - mmdet - INFO - sys.platform: linux",
        "2021-03-01 12:00:00,124 - mmdet - INFO - CUDA available: True",
        "2021-03-01 12:00:00,125 - mmdet - INFO - PyTorch: 1.7.1",
        "  - GCC 7.3",
    ]
    assert undo_log_prefix(logged) == [
        "sys.platform: linux",
        "CUDA available: True",
        "PyTorch: 1.7.1",
        "  - GCC 7.3",
    ]
    lone = ["04/22 04:09:09 - mmengine - INFO - Epoch 1", "PyTorch version: 2.1.0"]
    assert undo_log_prefix(lone) == lone
