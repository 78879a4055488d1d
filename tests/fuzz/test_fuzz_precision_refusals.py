"""The reader of a library's number-format refusals (envlock/pasted/precmsg.py) on outside
input: random compositions of real refusals, GPU lines and prose, mangled, end in Facts or one
FactsError line, never a traceback; a GPU the reader reads is one the text names (vLLM's with the
capability the text states); adversarial 1 MB lines built from its literals and patterns finish
within the bound (tests/fuzz/pastes.py's harness, CPU-bounded per example)."""

from __future__ import annotations

import pytest
from hypothesis import strategies as st

from envlock.pasted.precmsg import XFORMERS_GPU, read_precision_refusals
from tests.fuzz import pastes
from tests.pasted import test_precision_refusals as cases

pytestmark = pytest.mark.fuzz

REPORTS = [
    "OpenBuddy-45.txt",
    "vllm-docker-37.txt",
    "Langchain-Chatchat-1645.txt",
    "LMFlow-251.txt",
    "FastChat-1191.txt",
]
LINES = pastes.lines_of(
    [
        *((cases.CE / name).read_text() for name in REPORTS),
        cases.VLLM_T4,
        cases.VLLM_V1_P100,
        cases.V100_PROPS,
        cases.A100_PROPS,
        *(refusal for refusal, _ in cases.REFUSALS.values()),
        "on my A100 it runs, on the T4 it fails",
        "GPU 0: Tesla T4",
        "torch.__version__ = 2.0.1+cu117",
    ]
)
PIECES = st.sampled_from(
    [
        "Bfloat16 is only supported on GPUs with compute capability of at least 8.0",
        ". Your ",
        " GPU has compute capability ",
        "7.5",
        "Your setup doesn't support bf16/gpu",
        "bf16 is only supported on A100+ GPUs",
        "\u2019",
        "tsla T4",
        "V100",
        "\n",
        " ",
        "GPU 0",
    ]
)


def _holds(text: str) -> None:
    reading = read_precision_refusals(text)
    if reading is None:
        return
    flat = " ".join(text.lower().replace("\u2019", "'").split())  # as the reader reads it
    squeezed = "".join(flat.split())
    for index, name in reading.gpus.items():
        capability = reading.capabilities.get(index)
        assert capability is not None
        if name == XFORMERS_GPU:  # the GPU xFormers states only the capability of
            assert f"capability({capability.replace('.', ',')})" in squeezed, capability
        else:
            assert " ".join(name.lower().split()) in flat, name
    assert reading.notes


_VLLM = "Bfloat16 is only supported on GPUs with compute capability of at least 8.0"
# (context, fragment, tail): the state a pattern runs in, its repeated piece, a failing end
ADVERSARIAL = [
    ("", _VLLM + ". ", "x"),
    (_VLLM + ". Your ", "a ", "x"),
    (_VLLM + ". Your ", "tesla t4 gpu has compute ", "x"),
    (_VLLM + " ", "your a has compute capability 7.5 ", "x"),
    (_VLLM + " ", "your ", "x"),
    ("Your setup doesn't support bf16/gpu ", "tesla ", "x"),
    ("Your setup doesn't support bf16/gpu ", "T4 ", "x"),
    ("bf16 is only supported on A100+ GPUs ", "geforce rtx ", "x"),
    ("", "\u2019 \t\n", "x"),
    ("Your setup doesn't support bf16/gpu ", "t4?", "x"),
    ("Your setup doesn't support bf16/gpu ", "v100 . ", "x"),
]

FUZZ = pastes.ReaderFuzz((read_precision_refusals,), LINES, PIECES, holds=_holds)
test_real_lines_in_any_order_read_or_refuse = FUZZ.real_lines_test()
test_mangled_lines_never_raise = FUZZ.mangled_lines_test()
test_random_text_never_raises = FUZZ.any_text_test()
test_a_long_adversarial_line_stays_in_bound = FUZZ.adversarial_test(ADVERSARIAL)
