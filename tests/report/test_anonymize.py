"""`envlock report`'s anonymizer (issue 19, item 8): names bounded by `-`, `_`, `.`, `/`,
`@`, `:`; the names a pasted report's shell prompts and home paths give; tokens in URL
paths. Each rule has a case that fires and one that stays quiet."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from envlock.pasted.draft import Draft
from envlock.pasted.names import names_in_text
from envlock.report.anonymize import HOST, USER, anonymize
from tests.conftest import FIXTURES, run_envlock

# a real vLLM report, whose first line is its shell prompt:
# "(vllm) [hong0259@x1000c0s3b0n1 vllm]$ python collect_env.py"
VLLM = FIXTURES / "collect_env" / "vllm-12378.txt"
PROMPT_USER, PROMPT_HOST = "hong0259", "x1000c0s3b0n1"


def test_names_next_to_dashes_underscores_dots_and_colons_are_replaced() -> None:
    doc = {
        "NCCL_SOCKET_IFNAME": "gpunode7-ib0",
        "NCCL_DEBUG_FILE": "/var/log/alice-nccl.log",
        "SLURM_JOB_NAME": "job_alice",
        "MASTER": "gpunode7.cluster.example:29500",
        "ssh": "alice@gpunode7",
        "GPUNODE7_ib": "x",  # keys too, hosts in any case
    }
    out = anonymize(doc, hostnames=["gpunode7"], usernames=["alice"])
    assert out == {
        "NCCL_SOCKET_IFNAME": f"{HOST}-ib0",
        "NCCL_DEBUG_FILE": f"/var/log/{USER}-nccl.log",
        "SLURM_JOB_NAME": f"job_{USER}",
        "MASTER": f"{HOST}.cluster.example:29500",
        "ssh": f"{USER}@{HOST}",
        f"{HOST}_ib": "x",
    }


def test_a_name_inside_a_longer_word_is_kept() -> None:
    words = "nvidia-smi libnvidia-ml.so.1 nvidia_uvm gpunode71 subgpunode7"
    out = anonymize({"v": words}, hostnames=["gpunode7"], usernames=["vidia", "alice"])
    assert out["v"] == words
    # short names and everyday words are not names outside a home path
    text = "nvidia-ai ai_models /home/ai/x root-cause Ubuntu 22.04.4 LTS"
    out = anonymize({"v": text}, hostnames=["ubuntu"], usernames=["ai", "root"])
    assert out["v"] == f"nvidia-ai ai_models /home/{USER}/x root-cause Ubuntu 22.04.4 LTS"


@pytest.mark.parametrize(
    ("line", "user", "host"),
    [
        ("[alice@gpunode7 vllm]$ python collect_env.py", "alice", "gpunode7"),
        ("alice@gpunode7:~/work$ python collect_env.py", "alice", "gpunode7"),
        ("(venv) alice@gpunode7:/opt/app# python collect_env.py", "alice", "gpunode7"),
        ("alice@gpunode7 ~ % python collect_env.py", "alice", "gpunode7"),
        ("alice@gpunode7 % nvidia-smi", "alice", "gpunode7"),
        ("> (base) [alice@gpunode7 ~]$ pip freeze", "alice", "gpunode7"),
        # vllm-21310's prompt, its "[" lost in the paste
        ("(DeepSeek-V3) 4471592@red-a34 vLLM]$ python collect_env.py", "4471592", "red-a34"),
        # root is nobody's name, the container id is the host's
        ("root@3f2a1b9c8d7e:/workspace# python collect_env.py", None, "3f2a1b9c8d7e"),
    ],
)
def test_shell_prompts_name_the_user_and_host(line: str, user: str | None, host: str) -> None:
    draft = Draft()
    names_in_text(line, draft)
    assert (draft.users, draft.hosts) == ([user] if user else [], [host])


@pytest.mark.parametrize(
    "line",
    [
        "mail alice@example.org if this breaks",
        "torch @ https://download.pytorch.org/whl/cu121/torch-2.5.1.whl",
        "git@github.com:pytorch/pytorch.git",
        "vllm @ git+ssh://git@github.com/vllm-project/vllm",
        "alice@gpunode7: command not found $ x",
    ],
)
def test_text_that_is_not_a_prompt_names_nobody(line: str) -> None:
    draft = Draft()
    names_in_text(line, draft)
    assert (draft.users, draft.hosts) == ([], [])


def _paste(tmp_path: Path, *extra: str) -> Path:
    path = tmp_path / "report.txt"
    path.write_text(VLLM.read_text() + "\nEnvironment Variables\n" + "\n".join(extra) + "\n")
    return path


def test_a_pasted_reports_prompt_names_are_replaced_everywhere(tmp_path: Path) -> None:
    paste = _paste(
        tmp_path,
        f"NCCL_SOCKET_IFNAME={PROMPT_HOST}-ib0",
        f"NCCL_DEBUG_FILE=/var/log/{PROMPT_USER}-nccl.%h.log",
        f"VLLM_CACHE_ROOT=/scratch/job_{PROMPT_USER}/vllm",
    )
    for fmt in ("markdown", "json"):
        proc = run_envlock(["report", "--format", fmt, "--collect-env", str(paste)])
        assert proc.returncode == 0, proc.stderr
        assert PROMPT_USER not in proc.stdout and PROMPT_HOST not in proc.stdout, fmt
    variables = json.loads(proc.stdout)["env"]["variables"]
    assert variables["NCCL_SOCKET_IFNAME"] == f"{HOST}-ib0"
    assert variables["NCCL_DEBUG_FILE"] == f"/var/log/{USER}-nccl.%h.log"
    assert variables["VLLM_CACHE_ROOT"] == f"/scratch/job_{USER}/vllm"
    # --no-anonymize keeps them: the names come from the paste, not from a guess
    kept = run_envlock(
        ["report", "--no-anonymize", "--format", "json", "--collect-env", str(paste)]
    )
    assert json.loads(kept.stdout)["env"]["variables"]["NCCL_SOCKET_IFNAME"] == (
        f"{PROMPT_HOST}-ib0"
    )


def test_a_home_path_in_the_paste_names_its_user(tmp_path: Path) -> None:
    """The warning line with /home/carol42 is not a fact; carol42 elsewhere is replaced."""
    paste = tmp_path / "report.txt"
    paste.write_text(
        "/home/carol42/miniconda3/lib/python3.10/site-packages/torch/cuda/__init__.py:235: "
        "UserWarning: something\n"
        + (FIXTURES / "collect_env" / "pytorch-150733.txt").read_text()
        + "\nEnvironment Variables\nNCCL_DEBUG_FILE=/scratch/carol42-nccl.log\n"
    )
    proc = run_envlock(["report", "--format", "json", "--collect-env", str(paste)])
    assert proc.returncode == 0, proc.stderr
    assert "carol42" not in proc.stdout
    assert json.loads(proc.stdout)["env"]["variables"]["NCCL_DEBUG_FILE"] == (
        f"/scratch/{USER}-nccl.log"
    )


def test_tokens_in_url_paths_are_masked() -> None:
    doc = {
        "PIP_EXTRA_INDEX_URL": "https://pypi.example.org/Ab3kZ9/simple",
        "PIP_INDEX_URL": "https://pkgs.example.com/a3f9c2e8b1d4f607/pypi/simple/",
        "UV_INDEX_URL": "https://pypi.example.org/x/xY7p-Q2mN4kL9",
        "VLLM_URL": "https://h.example/Ab3k%5AZ9/simple",
    }
    assert anonymize(doc) == {
        "PIP_EXTRA_INDEX_URL": "https://pypi.example.org/***/simple",
        "PIP_INDEX_URL": "https://pkgs.example.com/***/pypi/simple/",
        "UV_INDEX_URL": "https://pypi.example.org/x/***",
        "VLLM_URL": "https://h.example/***/simple",
    }


def test_words_versions_and_wheel_names_in_url_paths_are_kept() -> None:
    urls = [
        "https://download.pytorch.org/whl/cu121",
        "https://download.pytorch.org/whl/nightly/cu128/torch-2.8.0.dev20250601%2Bcu128"
        "-cp311-cp311-manylinux_2_28_x86_64.whl",
        "https://pypi.org/simple/packages/",
        "https://huggingface.co/meta-llama/Meta-Llama-3-8B-Instruct",
        "https://huggingface.co/microsoft/ResNet50",
        "https://github.com/Dao-AILab/flash-attention/releases/download/v2.6.3/"
        "flash_attn-2.6.3+cu123torch2.4cxx11abiFALSE-cp311-cp311-linux_x86_64.whl",
        "git+https://github.com/NVIDIA/apex.git@a1b2c3d4e5f6a7b8c9d0a1b2c3d4e5f6a7b8c9d0",
        "https://repo.radeon.com/rocm/manylinux/rocm-rel-6.2/",
    ]
    assert anonymize({"urls": urls}) == {"urls": urls}
