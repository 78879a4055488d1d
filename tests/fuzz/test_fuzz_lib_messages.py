"""The readers of a Python session's prints (envlock/pasted/repl.py) and of torch's,
transformers' and the NGC banner's own refusals (envlock/pasted/libmessages.py) on outside
input: random compositions of real lines and mangled pieces end in Facts or one FactsError
line, never a traceback; the torch version read is one the text holds, a GPU's capability
one printed beside its name; adversarial 1 MB lines built from their patterns' fragments
finish within the bound (tests/fuzz/pastes.py's harness, CPU-bounded per example)."""

from __future__ import annotations

import pytest
from hypothesis import strategies as st

from envlock.facts import Facts
from envlock.matrix import load_matrix
from envlock.pasted.libmessages import read_lib_messages
from envlock.pasted.repl import read_repl
from tests.fuzz import pastes
from tests.pasted import test_lib_messages as cases

pytestmark = pytest.mark.fuzz

REPORTS = [
    "audiocraft-186.txt",
    "gladia-928.txt",
    "Langchain-Chatchat-2420.txt",
    "yolov5-231.txt",
    "FastChat-1191.txt",
    "ChatGLM-6B-920.txt",
]
LINES = pastes.lines_of(
    [
        *(cases._report(name) for name in REPORTS),
        cases.CUDNN_ERROR,
        cases.A100_PROPS,
        cases.V100_PROPS,
        cases.BF16_REFUSAL,
        cases.TF32_REFUSAL,
        cases.NGC_BANNER,
        ">>> torch.__version__\n'2.1.0+cu121'\n>>> torch.version.cuda\n'12.1'",
        "Python 3.10.6 (tags/v3.10.6:9c7b4bd, Aug  1 2022, 21:53:49) [MSC v.1932 64 bit "
        "(AMD64)] on win32",
    ]
)
PIECES = st.sampled_from(
    [
        "torch.__version__",
        "torch.version.cuda",
        ": ",
        " = ",
        "'",
        "+cu118",
        "None",
        "\n",
        "CudaDeviceProperties(name='",
        ", major=",
        "Torch not compiled with CUDA enabled",
        "torch not compiled with cuda enabled",
        "AssertionError:torch not compiled with",
        "[GCC 9.4.0] on linux",
        "> ",
    ]
)


def _capability_printed(facts: Facts, text: str) -> None:
    """A GPU's capability is one printed beside it, or the matrix's for its name (a hand
    list's ' - GPU Quadro P2000' beside a refusal: yolov5-231's line, 6.1 by the table)."""
    for gpu in facts.driver.gpus or []:
        if gpu.compute_capability is not None and gpu.name in text:
            major, minor = gpu.compute_capability.split(".")
            model = load_matrix().gpu_by_name(gpu.name)
            table = model is not None and str(model.capability) == gpu.compute_capability
            assert f"major={major}, minor={minor}" in text or "capability" in text or table


# (context, fragment, tail): the state a pattern runs in, its repeated piece, a failing end
ADVERSARIAL = [
    ("", "torch.__version__", " x"),
    ("torch.__version__: '", "2.0.1+cu118", "' x"),
    ("", "CudaDeviceProperties(name='", "a"),
    ("CudaDeviceProperties(name='", "a', major=7, minor=", "x"),
    ("Python 3.8.12 ", "| (default, ", "x"),
    ("", "+cu118 torch", " x"),
    ("", "This container was built for NVIDIA Driver Release 450.36 or later, but ", "x"),
    ("", "Your setup doesn't support bf16", "/x"),
    # torch's CPU-build words in any case and spacing (session 13): each "torch" tried once
    ("", "torch not compiled with cuda ", "x"),
    ("", "TORCH        ", "not"),
    ("When I run x, I get '", "AssertionError:torch not compiled with CUDA enabled' ", "x"),
]

FUZZ = pastes.ReaderFuzz(
    (read_repl, read_lib_messages), LINES, PIECES, holds_facts=_capability_printed
)
test_real_lines_in_any_order_read_or_refuse = FUZZ.real_lines_test()
test_mangled_lines_never_raise = FUZZ.mangled_lines_test()
test_random_text_never_raises = FUZZ.any_text_test()
test_a_long_adversarial_line_stays_in_bound = FUZZ.adversarial_test(ADVERSARIAL)
