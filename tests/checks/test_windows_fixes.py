"""Fixes a Windows user can run as printed (session 7 review, helper X2, item d).

pytorch#122924 (Windows, torch 2.2.2 CPU beside an RTX 4080 Laptop GPU) was told `pip
uninstall -y torch torchvision torchaudio && pip install ...`, and pytorch#29301 (Windows,
torch 1.3 on driver 391.74) `conda remove --force pytorch torchvision && pip install ...`:
Windows PowerShell 5.1, the shell Windows opens, rejects `&&` ("The token '&&' is not a
valid statement separator"), and `;`, PowerShell's separator, is no separator in cmd, where
`conda remove --force pytorch torchvision; pip install ...` would remove packages named pip
and install. One command a line runs in both. `python -c '...'` is no quoting in cmd:
double quotes are, in every shell.
"""

from __future__ import annotations

import re

import pytest

from envlock.checks.registry import run_checks
from envlock.findings import Finding
from envlock.pasted import facts_from_texts
from tests.conftest import FIXTURES

CE = FIXTURES / "collect_env"
WINDOWS = ["pytorch-122924.txt", "pytorch-29301.txt", "pytorch-49325.txt", "pytorch-85917.txt"]
_COMMAND = re.compile(r"^(pip|conda|python) ")


def _fixes(name: str) -> list[Finding]:
    return [f for f in run_checks(facts_from_texts(collect_env=(CE / name).read_text())) if f.fix]


@pytest.mark.parametrize("name", WINDOWS)
def test_no_fix_for_a_windows_machine_chains_commands(name: str) -> None:
    for f in _fixes(name):
        fix = f.fix or ""
        assert "&&" not in fix, (f.check_id, fix)
        assert "python -c '" not in fix, (f.check_id, fix)


def test_a_chain_is_one_command_a_line_in_the_same_order() -> None:
    """122924's CPU-only fix: the uninstall, then the install, each a line of its own that
    holds the whole command and nothing else."""
    (f,) = [f for f in _fixes("pytorch-122924.txt") if f.check_id == "EL-TORCH-CPU-ONLY"]
    lines = [line for line in (f.fix or "").splitlines() if _COMMAND.match(line)]
    assert lines == [
        "pip uninstall -y torch torchvision torchaudio",
        'pip install "torch==2.2.*" "torchvision==0.17.*" "torchaudio==2.2.*" '
        "--index-url https://download.pytorch.org/whl/cu121",
    ], f.fix
    assert "PowerShell" in (f.fix or ""), f.fix  # it says which shell


def test_the_conda_removal_road_of_29301_is_one_command_a_line() -> None:
    (f,) = [f for f in _fixes("pytorch-29301.txt") if f.check_id == "EL-DRIVER-TOO-OLD"]
    lines = [line for line in (f.fix or "").splitlines() if _COMMAND.match(line)]
    assert lines[0] == "conda remove --force pytorch torchvision", f.fix
    # 1.1.0's page gives no pip line: the wheels from the cu90 build's page (indexes.toml),
    # on the line after the removal
    after = (f.fix or "").splitlines()[(f.fix or "").splitlines().index(lines[0]) + 1]
    assert after.startswith('download the wheels of "torch==1.1.0" "torchvision==0.3.0"'), f.fix
    assert "https://download.pytorch.org/whl/cu90/torch_stable.html and pip" in after, f.fix
    assert (f.fix or "").startswith("upgrade the NVIDIA driver to >= 397.44"), f.fix


def test_a_linux_fix_keeps_its_chain() -> None:
    (f,) = [f for f in _fixes("vllm-19741.txt") if f.check_id == "EL-ARCH-UNSUPPORTED"]
    assert "pip uninstall -y torch torchvision torchaudio && pip install" in (f.fix or "")


def test_two_chains_and_three_commands_each_keep_their_order() -> None:
    from envlock.checks.shells import one_command_a_line

    text = (
        "install it: conda remove --force pytorch && pip uninstall -y torch && "
        'pip install "torch==2.2.*" --index-url U  (torch 2.2 cu121); or upgrade the driver '
        "and: pip uninstall -y torchvision && pip install torchvision"
    )
    commands = [line for line in one_command_a_line(text).splitlines() if _COMMAND.match(line)]
    assert commands == [
        "conda remove --force pytorch",
        "pip uninstall -y torch",
        'pip install "torch==2.2.*" --index-url U',
        "pip uninstall -y torchvision",
        "pip install torchvision",
    ]


def test_the_matrix_pip_line_for_a_windows_paste_is_one_command_a_line() -> None:
    """`envlock matrix --collect-env` of 122924 with --torch 2.2: the same release, so its
    line uninstalls first, one command a line on Windows."""
    from envlock.api import matrix_advice
    from envlock.collect import Source

    advice = matrix_advice(Source(collect_env=str(CE / "pytorch-122924.txt")), torch="2.2")
    assert advice.best is not None
    pip = advice.best.pip
    assert "&&" not in pip, pip
    commands = [line for line in pip.splitlines() if _COMMAND.match(line)]
    assert commands[0] == "pip uninstall -y torch torchvision torchaudio", pip
    assert commands[1].startswith('pip install "torch==2.2.*"'), pip
