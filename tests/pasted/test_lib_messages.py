"""A paste that is only torch's, a container's or transformers' own message, or a Python
session's prints, is read as the facts those state (envlock/pasted/repl.py,
envlock/pasted/libmessages.py, the gate in pasted/collect_env.py) and judged by the checks;
a text with none of them stays unreadable (session 10, H4)."""

from __future__ import annotations

import pytest

from envlock.checks import run_checks
from envlock.checks.triage import top_finding
from envlock.errors import FactsError
from envlock.facts import Facts
from envlock.findings import Severity
from envlock.pasted import facts_from_texts
from tests.conftest import FIXTURES

CE = FIXTURES / "collect_env"

# torch/backends/cudnn/__init__.py's error, as torch 2.0 raises it (two spaces its own)
CUDNN_ERROR = (
    "RuntimeError: cuDNN version incompatibility: PyTorch was compiled  against (8, 7, 0) but "
    "found runtime version (8, 6, 0). PyTorch already comes bundled with cuDNN."
)
# torch.cuda.get_device_properties(0) on an A100 (torch 2.0's repr)
A100_PROPS = (
    "_CudaDeviceProperties(name='NVIDIA A100-SXM4-40GB', major=8, minor=0, "
    "total_memory=40396MB, multi_processor_count=108)"
)
V100_PROPS = (
    "CudaDeviceProperties(name='Tesla V100-DGXS-32GB', major=7, minor=0, "
    "total_memory=32508MB, multi_processor_count=80)"
)
BF16_REFUSAL = (
    "ValueError: Your setup doesn't support bf16/gpu. You need torch>=1.10, using Ampere GPU "
    "with cuda>=11.0"
)
TF32_REFUSAL = "ValueError: --tf32 requires Ampere or a newer GPU arch, cuda>=11 and torch>=1.7"
NGC_BANNER = (
    "ERROR: This container was built for NVIDIA Driver Release 450.36 or later, but\n"
    "       version 440.100 was detected and compatibility mode is UNAVAILABLE.\n"
    "       [[CUDA Driver UNAVAILABLE (cuInit(0) returned 804)]]\n"
)


def _read(text: str) -> Facts:
    return facts_from_texts(collect_env=text)


def _top(facts: Facts) -> str | None:
    top = top_finding(run_checks(facts))
    return top.check_id if top else None


def _report(name: str) -> str:
    return (CE / name).read_text()


def test_torchs_cudnn_error_beside_its_printed_version_is_the_incompatibility() -> None:
    facts = _read(_report("audiocraft-186.txt"))
    assert facts.torch.version == "2.0.1+cu118"
    assert facts.torch.live is not None and facts.torch.live.cudnn_version == "8.6.0"
    assert _top(facts) == "EL-CUDNN-INCOMPATIBLE"


def test_the_cudnn_torch_was_built_with_loaded_is_no_finding() -> None:
    ok = CUDNN_ERROR.replace("(8, 6, 0)", "(8, 7, 0)")  # same version: not torch's words,
    facts = _read(f"torch.__version__: '2.0.1+cu118'\n{ok}\n")  # but the check's own rule
    assert "EL-CUDNN-INCOMPATIBLE" not in {f.check_id for f in run_checks(facts)}


def test_a_repl_session_alone_is_read() -> None:
    facts = _read(_report("gladia-928.txt"))
    assert facts.system.python is not None and facts.system.python.version == "3.8.12"
    assert facts.torch.live is not None and facts.torch.live.cudnn_version == "8.4.1"


def test_torchs_driver_message_alone_is_read() -> None:
    facts = _read(_report("Langchain-Chatchat-2420.txt"))
    assert facts.driver.cuda_version == "11.6"


@pytest.mark.parametrize(
    "text, version",
    [
        (">>> import torch\n>>> torch.__version__\n'2.1.0+cu121'\n", "2.1.0+cu121"),
        (">>> print(torch.__version__)\n2.1.0+cu121\n", "2.1.0+cu121"),
        ("torch.__version__ = 2.0.1+cu117\ncuda = 11.8\n", "2.0.1+cu117"),
    ],
)
def test_torchs_printed_version_is_read(text: str, version: str) -> None:
    assert _read(text).torch.version == version


def test_code_that_compares_torchs_version_states_none() -> None:
    with pytest.raises(FactsError):
        _read('if torch.__version__ >= "1.10":\n    pass\nx = torch.__version__ == 2.0\n')


def test_bf16_refused_by_transformers_on_a_v100_is_an_error() -> None:
    facts = _read(f"torch.__version__ = 2.0.1+cu117\n{V100_PROPS}\n{BF16_REFUSAL}\n")
    gpu = (facts.driver.gpus or [])[0]
    assert (gpu.name, gpu.compute_capability) == ("Tesla V100-DGXS-32GB", "7.0")
    top = top_finding(run_checks(facts))
    assert top is not None and top.check_id == "EL-BF16-UNSUPPORTED"
    assert top.severity is Severity.ERROR and "fp16" in (top.fix or "")


def test_tf32_refused_on_a_v100_states_the_ampere_formats_asked() -> None:
    assert _top(_read(_report("FastChat-1191.txt"))) == "EL-BF16-UNSUPPORTED"


def test_a_v100_no_library_refused_anything_on_is_no_error() -> None:
    facts = _read(f"torch.__version__ = 2.0.1+cu117\n{V100_PROPS}\n")
    bf16 = [f for f in run_checks(facts) if f.check_id == "EL-BF16-UNSUPPORTED"]
    assert [f.severity for f in bf16] == [Severity.INFO]


def test_bf16_refused_on_an_a100_is_no_bf16_finding() -> None:
    facts = _read(f"torch.__version__ = 2.0.1+cu117\n{A100_PROPS}\n{BF16_REFUSAL}\n")
    assert "EL-BF16-UNSUPPORTED" not in {f.check_id for f in run_checks(facts)}


def test_torch_not_compiled_with_cuda_beside_a_driver_is_the_cpu_build() -> None:
    facts = _read(_report("ChatGLM-6B-920.txt"))
    assert facts.torch.build == "cpu"
    assert _top(facts) == "EL-TORCH-CPU-ONLY"


def test_torch_not_compiled_with_cuda_beside_a_cuda_torch_is_not_read() -> None:
    text = (
        "AssertionError: Torch not compiled with CUDA enabled\n"
        "then I reinstalled: torch 2.0.1+cu118\n- PyTorch version: 2.0.1+cu118\n"
    )
    facts = _read(text)
    assert facts.torch.build == "cu118"


def test_the_ngc_banner_states_the_hosts_driver() -> None:
    facts = _read(f"Output:\n```\n{NGC_BANNER}Using CPU\n```\n")
    assert facts.driver.version == "440.100"
    assert any("[needs 450.36]" in n for n in facts.meta.notes)


def test_a_text_with_none_of_these_stays_unreadable() -> None:
    with pytest.raises(FactsError, match="no collect_env fields found"):
        _read("RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB\nhelp please\n")
