"""EL-TORCH-TWO-INSTALLS leads with the road that can run here (session 7, X2's review).

Its first road kept conda's pytorch. Where that build cannot serve the machine, keeping it
is the wrong advice: vllm-16006 (conda's CPU build of pytorch 2.1.0 beside pip's torch
2.5.1 and an RTX 4090) was told to put the CPU build back; pytorch-28321 (conda's CUDA 10.1
build beside driver 410.104, which EL-DRIVER-TOO-OLD says cannot run it) was told to keep
the build the other finding removes. There pip's torch is the first road, with the reason;
beside vLLM (its wheel is built for pip's torch build) it is the only one. Where conda's
build runs here, the conda road stays first.
"""

from __future__ import annotations

from envlock.checks.registry import run_checks
from envlock.pasted import facts_from_texts
from tests.conftest import FIXTURES

CE = FIXTURES / "collect_env"


def _fix(text: str) -> str:
    found = [
        f
        for f in run_checks(facts_from_texts(collect_env=text))
        if f.check_id == "EL-TORCH-TWO-INSTALLS"
    ]
    assert len(found) == 1
    return found[0].fix or ""


def _without_vllm(name: str) -> str:
    text = (CE / name).read_text()
    return "\n".join(line for line in text.splitlines() if "vllm" not in line.lower())


def test_a_cpu_conda_build_beside_nvidia_gpus_is_not_the_first_road() -> None:
    fix = _fix(_without_vllm("vllm-16006.txt"))
    assert fix.startswith("keep pip's torch 2.5.1"), fix
    assert "CPU build" in fix
    assert fix.index("conda remove --force pytorch") < fix.index("conda install")


def test_a_conda_build_this_driver_cannot_run_is_not_the_first_road() -> None:
    fix = _fix((CE / "pytorch-28321.txt").read_text())
    assert fix.startswith("keep pip's torch 1.2.0"), fix
    assert "410.104" in fix and "CUDA 10.1" in fix


def test_beside_vllm_only_pips_torch_stays() -> None:
    fix = _fix((CE / "vllm-16006.txt").read_text())
    assert "conda install" not in fix, fix
    assert "is built for this torch build: keep it" in fix
    assert fix.endswith('pip install --force-reinstall --no-deps "torch==2.5.1"'), fix


def test_a_conda_build_that_runs_here_stays_the_first_road() -> None:
    fix = _fix((CE / "ghfile-amirhussein96-sherpa-installation-readme.txt").read_text())
    assert fix.startswith("keep one installer for torch and its family"), fix
