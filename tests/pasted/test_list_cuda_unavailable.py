"""A tool's environment list whose CUDA build of torch finds no CUDA (envlock/pasted/signals.py).

lerobot-info (src/lerobot/scripts/lerobot_info.py since huggingface/lerobot#2005, lerobot
0.3.4) prints "Is PyTorch built with CUDA support?" as str(torch.cuda.is_available()) despite
its words, and its "Cuda version" and "GPU model" only where that is True; before #2005 it
printed "PyTorch version (GPU?): VERSION (is_available())" as Hugging Face's other tools do. A
CUDA build (+cu126) that answers False, beside no GPU and no driver, is the corpus standard's
no-driver (lerobot-2250). Where a GPU, a driver or nvidia-smi's table is pasted too, or the
text is torch's own collect_env, the list's False is not read as no driver.
"""

from __future__ import annotations

import pytest

from envlock.checks import run_checks
from envlock.checks.triage import top_finding
from envlock.pasted import facts_from_texts
from tests.conftest import FIXTURES

CE = FIXTURES / "collect_env"
LEROBOT = (CE / "lerobot-2250.txt").read_text()


def _ids(text: str, smi: str | None = None) -> set[str]:
    return {f.check_id for f in run_checks(facts_from_texts(collect_env=text, nvidia_smi=smi))}


def test_lerobot_info_cuda_build_without_cuda_is_no_driver() -> None:
    top = top_finding(run_checks(facts_from_texts(collect_env=LEROBOT)))
    assert top is not None and top.check_id == "EL-NO-DRIVER", top
    assert "is_available() is False" in top.message, top.message


def test_transformers_env_list_cuda_build_false_is_no_driver() -> None:
    """transformers-cli env's format (its commands/env.py: "PyTorch version (GPU?)": f"{pt_version}
    ({pt_cuda_available})"), as lerobot printed it before #2005."""
    text = (
        "- `transformers` version: 4.46.2\n"
        "- Platform: Linux-5.15.0-91-generic-x86_64-with-glibc2.35\n"
        "- Python version: 3.10.12\n"
        "- PyTorch version (GPU?): 2.5.1+cu124 (False)\n"
        "- Using GPU in script?: yes\n"
    )
    assert "EL-NO-DRIVER" in _ids(text)


@pytest.mark.parametrize(
    "old,new",
    [
        # CUDA available: the driver is there
        ("CUDA support?: False", "CUDA support?: True"),
        # a GPU named in the list: something answered for it (another cause, or none)
        ("- device: cpu", "- GPU model: NVIDIA GeForce RTX 4090"),
        # a CPU build has no CUDA to be unavailable (EL-TORCH-CPU-ONLY's ground, not this)
        ("2.7.1+cu126", "2.7.1+cpu"),
        # a Jetson (an L4T kernel) answers no nvidia-smi at all
        ("Linux-6.4.0-150600.23.65-default", "Linux-5.15.148-tegra"),
        # WSL 2: the driver is the Windows host's (tests/checks/test_wsl1_no_driver.py)
        ("Linux-6.4.0-150600.23.65-default", "Linux-5.15.153.1-microsoft-standard-WSL2"),
    ],
)
def test_the_list_says_otherwise_and_it_is_not_no_driver(old: str, new: str) -> None:
    assert old in LEROBOT
    assert "EL-NO-DRIVER" not in _ids(LEROBOT.replace(old, new))


@pytest.mark.parametrize("inline", [True, False])
def test_a_pasted_nvidia_smi_table_wins(inline: bool) -> None:
    """nvidia-smi listing a GPU and its driver: the driver is there (pytorch-45028's table:
    driver 450 is too old for cu126, which is what the doctor says)."""
    smi = (FIXTURES / "nvidia_smi" / "pytorch-45028.txt").read_text()
    ids = _ids(LEROBOT + "\n\n" + smi) if inline else _ids(LEROBOT, smi)
    assert "EL-NO-DRIVER" not in ids
    assert "EL-DRIVER-TOO-OLD" in ids


def test_a_collect_env_excerpt_is_judged_by_its_own_lines() -> None:
    """torch's collect_env with 'Is CUDA available: False' cut before its driver and GPU lines:
    its own lines say no why (tests/pasted/test_corpus_s4_scored.py holds vllm-3510's case),
    so the short-list reading does not apply."""
    text = (
        "PyTorch version: 2.5.1+cu124\n"
        "Is debug build: False\n"
        "CUDA used to build PyTorch: 12.4\n"
        "ROCM used to build PyTorch: N/A\n"
        "\n"
        "OS: Ubuntu 22.04.4 LTS (x86_64)\n"
        "GCC version: (Ubuntu 11.4.0-1ubuntu1~22.04) 11.4.0\n"
        "Python version: 3.10.12 (main, Nov 20 2023, 15:14:05) [GCC 11.4.0] (64-bit runtime)\n"
        "Is CUDA available: False\n"
    )
    assert "EL-NO-DRIVER" not in _ids(text)
