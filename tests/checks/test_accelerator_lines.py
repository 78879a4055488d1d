"""An accelerator other than NVIDIA's that a paste shows only in its lines, not its package
lists (X3's review, session 8).

habana-vllm-fork#666 is a Gaudi 3 host: its collect_env (the Gaudi vLLM fork's) prints
"HPU devices: 8x HL-325L" and "HPU driver version: 1.20.1-366eb9c" beside PyPI's torch
2.5.1+cu124, and lists no habana package. The doctor told it to run on an NVIDIA machine or
take the CPU wheel; Gaudi's road is Intel Gaudi's own PyTorch build. vLLM's platform log line
("Automatically detected platform hpu." / neuron / tpu / xpu) says the same. Not a CUDA
platform line (vllm-16632), nor vLLM's "No platform detected".
"""

from __future__ import annotations

from envlock.checks.registry import run_checks
from envlock.findings import Finding
from envlock.pasted import facts_from_texts
from tests.conftest import FIXTURES

CE = FIXTURES / "collect_env"


def _found(text: str) -> list[Finding]:
    return run_checks(facts_from_texts(collect_env=text))


def _no_driver(text: str) -> Finding:
    (f,) = [f for f in _found(text) if f.check_id == "EL-NO-DRIVER"]
    return f


def test_gaudi_read_from_its_hpu_lines() -> None:
    f = _no_driver((CE / "habana-vllm-fork-666.txt").read_text())
    assert "Gaudi" in f.message and "HL-325L" in f.message, f.message
    assert "Gaudi's own PyTorch build" in (f.fix or ""), f.fix
    assert "NVIDIA GPU and driver" not in (f.fix or ""), f.fix


def test_vllms_platform_line_names_the_accelerator() -> None:
    text = (CE / "habana-vllm-fork-666.txt").read_text()
    text = text.replace("HPU devices: 8x HL-325L", "").replace(
        "HPU driver version: 1.20.1-366eb9c", ""
    )
    text = text.replace(
        "No platform detected, vLLM is running on UnspecifiedPlatform",
        "Automatically detected platform neuron.",
    )
    f = _no_driver(text)
    assert "Neuron" in f.message, f.message


def test_no_accelerator_from_cuda_or_no_platform() -> None:
    text = (CE / "habana-vllm-fork-666.txt").read_text()
    text = text.replace("HPU devices: 8x HL-325L", "").replace(
        "HPU driver version: 1.20.1-366eb9c", ""
    )
    f = _no_driver(text)
    assert "Gaudi" not in f.message and "this is" not in f.message, f.message
    cuda = _found((CE / "vllm-16632.txt").read_text())
    assert not any("whose plugin does not use CUDA" in x.message for x in cuda)
