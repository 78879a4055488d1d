"""EL-TORCH-TWO-INSTALLS' conda road names the channel conda's pytorch came from (X3's
review, session 8).

The sherpa installation notes pair conda's pytorch 1.12.0 py3.8_cuda11.3_cudnn8.3.2_0 (the
pytorch channel's build string) with pip's torch 1.12.0+cu113; the road that keeps conda's
said `conda install --force-reinstall pytorch=1.12.0`, which the default channels answer with
their own pytorch build, not the pytorch channel's CUDA 11.3 one the environment held. The road
names `-c pytorch` (and `-c nvidia` beside pytorch-cuda, as pytorch.org's conda commands do);
a conda-forge build names conda-forge; a build string that says no channel names none.
"""

from __future__ import annotations

from envlock.checks.registry import run_checks
from envlock.findings import Finding
from envlock.pasted import facts_from_texts
from tests.conftest import FIXTURES

CE = FIXTURES / "collect_env"
SHERPA = (CE / "ghfile-amirhussein96-sherpa-installation-readme.txt").read_text()


def _two(text: str) -> Finding:
    (f,) = [
        f
        for f in run_checks(facts_from_texts(collect_env=text))
        if f.check_id == "EL-TORCH-TWO-INSTALLS"
    ]
    return f


def test_pytorch_channel_build_names_the_channel() -> None:
    fix = _two(SHERPA).fix or ""
    assert "conda install --force-reinstall pytorch=1.12.0 -c pytorch" in fix, fix
    assert "-c nvidia" not in fix, fix  # cudatoolkit 11.3, no pytorch-cuda


def test_pytorch_cuda_adds_nvidia() -> None:
    text = SHERPA.replace(
        "[conda] pytorch-mutex",
        "[conda] pytorch-cuda              11.7                 h67b0de4_0    pytorch\n[conda] pytorch-mutex",
    )
    assert "pytorch=1.12.0 -c pytorch -c nvidia" in (_two(text).fix or "")


def test_a_build_string_of_no_known_channel_names_none() -> None:
    text = SHERPA.replace("py3.8_cuda11.3_cudnn8.3.2_0", "h1234567_0")
    fix = _two(text).fix or ""
    assert "conda install --force-reinstall pytorch=1.12.0;" in fix or fix.endswith(
        "pytorch=1.12.0"
    ), fix

