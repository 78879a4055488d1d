"""collect_env writes 'No CUDA' into 'CUDA runtime version' only when torch sees no CUDA and
the GPU models and the driver version are missing too (torch/utils/collect_env.py,
pretty_str's all_dynamic_cuda_fields_missing). A report trimmed of its GPU lines
(pytorch-189803: a CUDA 13.0 build, 'Is CUDA available: False', 'CUDA runtime version: No
CUDA', no GPU, driver or cuDNN line) says what 'GPU models and configuration: No CUDA' says."""

from __future__ import annotations

from envlock.checks import run_checks
from envlock.checks.triage import top_finding
from envlock.pasted import facts_from_texts
from tests.conftest import FIXTURES

TEXT = (FIXTURES / "collect_env" / "pytorch-189803.txt").read_text()


def test_no_cuda_runtime_line_is_collect_envs_word_on_the_gpus_and_driver() -> None:
    facts = facts_from_texts(collect_env=TEXT)
    assert facts.driver.gpus == []  # observed: none, not 'not in the paste'
    top = top_finding(run_checks(facts))
    assert top is not None and top.check_id == "EL-NO-DRIVER"


def test_a_runtime_collect_env_could_not_read_says_nothing_of_the_gpus() -> None:
    text = TEXT.replace("CUDA runtime version: No CUDA", "CUDA runtime version: Could not collect")
    facts = facts_from_texts(collect_env=text)
    assert facts.driver.gpus is None
    assert "EL-NO-DRIVER" not in {f.check_id for f in run_checks(facts)}
