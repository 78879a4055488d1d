"""EL-TRITON-ARCH-UNSUPPORTED and EL-FP8-UNSUPPORTED: Triton's GPU floors, on the refusals'
own words (envlock/pasted/tritonmsg.py) in real texts of several torch, Triton and vLLM
releases, and quiet where the text tells the refusal as another machine's or gone."""

from __future__ import annotations

import pytest

from envlock.checks.registry import run_checks
from envlock.checks.triage import top_finding
from envlock.errors import FactsError
from envlock.facts import Facts
from envlock.findings import Finding, Severity
from envlock.pasted import facts_from_texts
from tests.conftest import FIXTURES

ARCH = "EL-TRITON-ARCH-UNSUPPORTED"
FP8 = "EL-FP8-UNSUPPORTED"
CE = FIXTURES / "collect_env"

# apple/ml-cross-entropy#41 (torch 2.6, Python 3.13): the traceback quotes torch's own source
# (its f-string) before the message of the GTX 1070 it ran on
_SOURCE = (
    "Found {device_props.name} which is too old to be supported by the triton GPU compiler, "
    "which is used as the backend. Triton only supports devices of CUDA Capability >= 7.0, "
    "but your device is of CUDA capability {device_props.major}.{device_props.minor}"
)
ML_CE_41 = "\n".join(
    [
        '  File "/home/crow/repos/praxis/.venv/lib/python3.13/site-packages/torch/_inductor/'
        'scheduler.py", line 3428, in create_backend',
        "    raise RuntimeError(",
        f'        f"{_SOURCE}"  # noqa: B950',
        "    )",
        "torch._dynamo.exc.BackendCompilerFailed: backend='inductor' raised:",
        "RuntimeError: Found NVIDIA GeForce GTX 1070 which is too old to be supported by the "
        "triton GPU compiler, which is used as the backend. Triton only supports devices of "
        "CUDA Capability >= 7.0, but your device is of CUDA capability 6.1",
        "",
        'Set TORCH_LOGS="+dynamo" and TORCHDYNAMO_VERBOSE=1 for more information',
    ]
)
# 2noise/ChatTTS#341: torch._dynamo's suppress_errors logged it and ran eagerly
CHATTTS_341 = (
    "[2024-06-18 19:45:55,713] torch._dynamo.convert_frame: [WARNING] RuntimeError: Found "
    "NVIDIA GeForce GTX 1080 Ti which is too old to be supported by the triton GPU compiler, "
    "which is used as the backend. Triton only supports devices of CUDA Capability >= 7.0, "
    "but your device is of CUDA capability 6.1\n"
)
# vLLM on two P100s (a vLLM [Usage] issue): rank-prefixed, BackendCompilerFailed
VLLM_P100 = (
    "[rank0]: torch._dynamo.exc.BackendCompilerFailed: backend='inductor' raised:\n"
    "[rank0]: RuntimeError: Found Tesla P100-PCIE-16GB which is too old to be supported by "
    "the triton GPU compiler, which is used as the backend. Triton only supports devices of "
    "CUDA Capability >= 7.0, but your device is of CUDA capability 6.0\n"
)
# a README's GTX 960 (nanoGPT with torch.compile), wrapped by the reporter mid-sentence
GTX_960_WRAPPED = """\
torch._dynamo.exc.BackendCompilerFailed: backend='inductor' raised:
RuntimeError: Found NVIDIA GeForce GTX 960 which is too old to be supported by the triton GPU compiler, which is used
as the backend. Triton only supports devices of CUDA Capability >= 7.0, but your device is of CUDA capability 5.2
"""
# torch 2.6+'s GPUTooOldForTriton as a report quoted it, its first sentence elided
ELIDED = """\
GPUTooOldForTriton: ... Triton only supports devices of CUDA Capability >= 7.0,
but your device is of CUDA capability 5.2
"""
# the refusal told as gone (F4/F5's shape), and as another machine's
GONE = (
    "The error 'Found Tesla P100-PCIE-16GB which is too old to be supported by the triton GPU "
    "compiler, which is used as the backend.' went away once we moved the job to a T4.\n"
)
OLD_PC = (
    "On my old PC I got RuntimeError: Found NVIDIA GeForce GTX 1060 6GB which is too old to be "
    "supported by the triton GPU compiler, which is used as the backend. The new one has an "
    "RTX 3060.\n"
)
# a healthy collect_env of an A100 machine whose reporter quotes a P100's refusal
A100_REPORT = """\
PyTorch version: 2.6.0+cu124
Is debug build: False
CUDA used to build PyTorch: 12.4
OS: Ubuntu 22.04.4 LTS (x86_64)
Python version: 3.10.12 (main, Feb  4 2025, 14:57:36) [GCC 11.4.0] (64-bit runtime)
Is CUDA available: True
GPU models and configuration:
GPU 0: NVIDIA A100-SXM4-80GB
Nvidia driver version: 560.35.03
"""
A100_QUOTING = A100_REPORT + "\nOn Kaggle's P100 the same script said:\n" + VLLM_P100

# vllm-project/vllm#18182 (Llama4 Maverick FP8 on 4xA100, vLLM's collect_env, then the error)
VLLM_18182 = """\
PyTorch version: 2.6.0+cu124
Is debug build: False
CUDA used to build PyTorch: 12.4
ROCM used to build PyTorch: N/A

OS: Ubuntu 20.04.6 LTS (x86_64)
Python version: 3.12.9 | packaged by Anaconda, Inc. | (main, Feb  6 2025, 18:56:27) [GCC 11.2.0] (64-bit runtime)
Python platform: Linux-5.4.0-215-generic-x86_64-with-glibc2.31
Is CUDA available: True
CUDA runtime version: 12.4.131
GPU models and configuration:
GPU 0: NVIDIA A100-SXM4-80GB
GPU 1: NVIDIA A100-SXM4-80GB
GPU 2: NVIDIA A100-SXM4-80GB
GPU 3: NVIDIA A100-SXM4-80GB

Nvidia driver version: 570.124.06

triton.compiler.errors.CompilationError: at 1:0:
def _per_token_group_quant_fp8(
^
ValueError("type fp8e4nv not supported in this architecture. The supported fp8 dtypes are ('fp8e4b15', 'fp8e5')")
"""
# vllm-project/vllm#12581 (DeepSeek R1, vLLM 0.7 with Triton 3.1): the older assertion
VLLM_12581 = (
    "ERROR 01-30 12:00:00 engine.py:135] assert builder.options.allow_fp8e4nv, "
    '"fp8e4nv data type is not supported on CUDA arch < 89"\n'
)
# a Radeon W7900's (vLLM on ROCm): Triton's AMD backend names no fp8e4b15
RADEON = (
    'Error message: ValueError("type fp8e4nv not supported in this architecture. The '
    "supported fp8 dtypes are ('fp8e5',)\") Either removing `--enable-prefix-caching` or "
    "`--kv-cache-dtype fp8` solves the problem\n"
)


P100_UNDER_CU128 = (
    "PyTorch version: 2.9.0+cu130\nIs CUDA available: True\nGPU models and configuration:\n"
    "GPU 0: Tesla P100-PCIE-16GB\nNvidia driver version: 580.65.06\n\n" + VLLM_P100
)


def _read(text: str) -> Facts:
    return facts_from_texts(collect_env=text)


def _quiet(text: str, check_id: str) -> bool:
    """Whether the text reads to no finding of `check_id` (or to nothing at all)."""
    try:
        facts = _read(text)
    except FactsError:
        return True
    return _found(facts, check_id) == []


def _found(facts: Facts, check_id: str) -> list[Finding]:
    return [f for f in run_checks(facts) if f.check_id == check_id]


@pytest.mark.parametrize(
    ("name", "gpu_words"),
    [
        ("nanoGPT-326.txt", "Tesla P100-PCIE-16GB (6.0)"),
        ("textgen-5665.txt", "NVIDIA GeForce GTX 1080 Ti (6.1)"),
    ],
)
def test_the_tuning_reports_are_the_floor_first(name: str, gpu_words: str) -> None:
    """nanoGPT-326 (Kaggle's P100 in a fenced log) and textgen-5665 (a GTX 1080 Ti's refusal
    quoted in prose): the GPU and capability are the message's."""
    facts = _read((CE / name).read_text())
    top = top_finding(run_checks(facts))
    assert top is not None and top.check_id == ARCH
    assert top.severity is Severity.ERROR
    assert f"refused {gpu_words}" in top.message
    assert "compute capability >= 7.0" in top.message and "no torch build" in top.message
    assert "TORCH_COMPILE_DISABLE=1" in (top.fix or "")
    assert "no torch build change helps" in (top.fix or "")


@pytest.mark.parametrize(
    ("text", "gpu_words"),
    [
        (ML_CE_41, "NVIDIA GeForce GTX 1070 (6.1)"),
        (VLLM_P100, "Tesla P100-PCIE-16GB (6.0)"),
        (GTX_960_WRAPPED, "NVIDIA GeForce GTX 960 (5.2)"),
        (ELIDED, "the GPU (5.2)"),
    ],
)
def test_every_wording_and_wrapper_of_torchs_refusal_is_read(text: str, gpu_words: str) -> None:
    (f,) = _found(_read(text), ARCH)
    assert f.severity is Severity.ERROR
    assert f"refused {gpu_words}:" in f.message
    assert "{device_props" not in f.message  # torch's own source line is no GPU


def test_a_refusal_dynamo_logged_and_ran_eagerly_is_a_warning() -> None:
    (f,) = _found(_read(CHATTTS_341), ARCH)
    assert f.severity is Severity.WARNING
    assert "ran the frames eagerly" in f.message


@pytest.mark.parametrize("text", [GONE, OLD_PC, A100_QUOTING])
def test_a_refusal_told_as_gone_or_another_machines_is_quiet(text: str) -> None:
    assert _quiet(text, ARCH)


def test_a_healthy_volta_and_newer_report_is_quiet() -> None:
    facts = _read(A100_REPORT)
    assert _found(facts, ARCH) == [] and _found(facts, FP8) == []


def test_a_gpu_the_installed_torch_does_not_serve_is_read_first() -> None:
    """The same paste stating torch's own kernels are missing (EL-ARCH-UNSUPPORTED) reads that
    first: a P100 under torch 2.9.0+cu130, whose list starts at sm_75... would not run eagerly
    either."""
    findings = run_checks(_read(P100_UNDER_CU128))
    ids = {f.check_id for f in findings if f.severity is Severity.ERROR}
    if "EL-ARCH-UNSUPPORTED" in ids:
        top = top_finding(findings)
        assert top is not None and top.check_id == "EL-ARCH-UNSUPPORTED"
    assert ARCH in ids


def test_the_gpu_the_fix_names_runs_the_installed_torchs_kernels() -> None:
    """Under a torch whose kernels start above Triton's floor the fix names where they start,
    not 7.0 (computed from the matrix's arch list of the installed build)."""
    (f,) = _found(_read(P100_UNDER_CU128), ARCH)
    floor = f.evidence["fix.gpu_capability_at_least"]
    assert floor != "7.0" and f"compute capability >= {floor}" in (f.fix or "")
    assert "torch 2.9.0+cu130's kernels start there" in (f.fix or "")


def test_vllm_18182_fp8_on_a100s_names_them() -> None:
    facts = _read(VLLM_18182)
    (f,) = _found(facts, FP8)
    assert f.severity is Severity.ERROR
    assert "0: NVIDIA A100-SXM4-80GB (8.0)" in f.message
    assert ">= 8.9" in f.message and "fp8_e5m2" in (f.fix or "")
    assert _found(facts, ARCH) == []


def test_tritons_older_fp8_assertion_is_read() -> None:
    (f,) = _found(_read(VLLM_12581), FP8)
    assert "the GPU it ran on" in f.message


def test_a_radeons_fp8_refusal_and_a_hopper_report_are_quiet() -> None:
    assert _quiet(RADEON, FP8)
    h100 = VLLM_18182.replace("NVIDIA A100-SXM4-80GB", "NVIDIA H100 80GB HBM3")
    assert _found(_read(h100), FP8) == []
