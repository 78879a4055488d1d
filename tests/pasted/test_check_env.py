"""sglang's `python3 -m sglang.check_env` (and OpenMMLab's collect_env, which it copies) read
as the collect_env fields it holds (issue 21, session 6: a layout of its own in the corpus,
each report of it unreadable before). From the tuning reports' own text."""

from __future__ import annotations

import pytest

from envlock.checks import run_checks
from envlock.facts import Facts
from envlock.findings import Severity
from envlock.pasted import facts_from_texts
from envlock.pasted.check_env import as_collect_env, looks_like_check_env
from tests.conftest import FIXTURES

CE = FIXTURES / "collect_env"


def _facts(name: str) -> Facts:
    return facts_from_texts(collect_env=(CE / name).read_text())


def test_four_a100s_on_one_line_with_their_capability() -> None:
    f = _facts("sglang-2943.txt")
    assert (f.torch.version, f.torch.cuda, f.torch.build) == ("2.5.1+cu121", "12.1", "cu121")
    assert f.torch.live is not None and f.torch.live.cuda_available is True
    assert f.driver.version == "470.103.01"
    gpus = [(g.index, g.name, g.compute_capability) for g in f.driver.gpus or []]
    assert gpus == [(i, "NVIDIA A100-SXM4-80GB", "8.0") for i in range(4)]
    assert f.cuda.toolkit is not None and f.cuda.toolkit.nvcc_version == "12.1.105"
    assert f.system.python is not None and f.system.python.version == "3.12.3"
    # the libraries it lists (a 'Module Not Found' one is not installed)
    assert f.packages.distributions["flashinfer"] == "0.2.0.post1+cu121torch2.4"
    assert f.packages.distributions["vllm"] == "0.6.4.post1"
    assert "hf-transfer" not in f.packages.distributions


def test_a_fenced_report_of_one_t4_without_a_capability_line() -> None:
    f = _facts("sglang-931.txt")
    assert (f.torch.version, f.torch.build) == ("2.3.1+cu121", "cu121")
    assert [(g.index, g.name) for g in f.driver.gpus or []] == [(0, "Tesla T4")]
    assert f.driver.version == "535.54.03"


def test_rocm_available_on_a_rocm_build() -> None:
    f = _facts("sglang-5668.txt")
    assert f.torch.version == "2.6.0+rocm6.4.0.git2fb0ac2b"
    assert (f.torch.hip, f.torch.cuda) == ("6.4", None)
    assert f.torch.live is not None and f.torch.live.cuda_available is True


@pytest.mark.parametrize(
    "name",
    [
        "sglang-1058.txt",
        "sglang-1109.txt",
        "sglang-1160.txt",
        "sglang-1751.txt",
        "sglang-2943.txt",
        "sglang-3303.txt",
        "sglang-4175.txt",
        "sglang-5022.txt",
        "sglang-5668.txt",
        "sglang-931.txt",
    ],
)
def test_each_healthy_check_env_report_reads_without_an_error(name: str) -> None:
    text = (CE / name).read_text()
    assert looks_like_check_env(text)
    f = facts_from_texts(collect_env=text)
    assert f.torch.version
    assert [x.check_id for x in run_checks(f) if x.severity is Severity.ERROR] == []


def test_torchs_own_collect_env_is_not_this_layout() -> None:
    text = (CE / "pytorch-150733.txt").read_text()
    assert not looks_like_check_env(text)


def test_gpu_lines_expand_by_index() -> None:
    text = "CUDA available: True\nGPU 0,2: NVIDIA H20\nGPU 0,2 Compute Capability: 9.0\n"
    text += "PyTorch: 2.6.0+cu124\n"
    got = as_collect_env(text)
    assert "GPU 0: NVIDIA H20\nGPU 2: NVIDIA H20" in got.text
    assert got.capabilities == {0: "9.0", 2: "9.0"}


def test_a_short_report_whose_widest_line_is_pythons() -> None:
    """sglang-8432 (s6 held-out miss): 15 lines, none wrapped, the Python line the widest (61
    columns, a word wrap at 72 by its width). Its next line, 'CUDA available: True', was not
    known to start a line, so the layout step joined it to the Python line as the rest of a
    wrap: the check_env layout was then not found and nothing was read."""
    f = _facts("sglang-8432.txt")
    assert (f.torch.version, f.torch.build) == ("2.7.1+cu126", "cu126")
    assert f.torch.live is not None and f.torch.live.cuda_available is True
    assert f.driver.version == "535.86.10"
    assert f.system.python is not None and f.system.python.version == "3.11.13"
    assert [g.name for g in f.driver.gpus or []] == ["NVIDIA A800-SXM4-80GB"] * 8
    # collect_env's own key still reads whole, flattened: not split at 'CUDA available'
    flat = "PyTorch version: 2.3.0+cu121 Is CUDA available: True CUDA used to build PyTorch: 12.1"
    g = facts_from_texts(collect_env=flat)
    assert g.torch.live is not None and g.torch.live.cuda_available is True
    assert g.torch.version == "2.3.0+cu121"


def test_mmengines_block_cut_before_its_pytorch_line_is_one() -> None:
    # mmdetection-11650 (open-mmlab/mmdetection#11650): the excerpt's environment block
    # starts at 'sys.platform: linux' and ends before 'PyTorch: ...': it read as nothing
    text = (CE / "mmdetection-11650.txt").read_text()
    assert looks_like_check_env(text)
    facts = facts_from_texts(collect_env=text)
    assert [g.name for g in facts.driver.gpus or []] == ["NVIDIA GeForce RTX 3090"]
    assert not [f for f in run_checks(facts) if f.severity is Severity.ERROR]
    # 'sys.platform:' alone (a Python session's print, no 'CUDA available:') is no block
    assert not looks_like_check_env("sys.platform: linux\nPython: 3.7.10\n")
