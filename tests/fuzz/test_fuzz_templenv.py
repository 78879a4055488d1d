"""The reader of hand-filled template checklists (envlock/pasted/templenv.py) on outside input:
random compositions of real checklist lines and mangled pieces end in Facts or one FactsError
line, never a traceback; the torch version read is one the text holds; adversarial 1 MB lines
built from its patterns' fragments finish within the bound (tests/fuzz/pastes.py's harness,
CPU-bounded per example by tests/fuzz/cpubound.py)."""

from __future__ import annotations

import pytest
from hypothesis import strategies as st

from envlock.pasted.templenv import read_template
from tests.fuzz.pastes import ReaderFuzz, lines_of
from tests.pasted.test_templenv import (
    FAIRSEQ_2769,
    FAIRSEQ_4234,
    FAIRSEQ_4326,
    LIGHTNING_LIST,
    PYTORCH_46431,
    PYTORCH_52736,
    STD_14_COMMAND,
    _checklist,
)

pytestmark = pytest.mark.fuzz

LINES = lines_of(
    [
        FAIRSEQ_2769,
        FAIRSEQ_4234,
        FAIRSEQ_4326,
        LIGHTNING_LIST.format(
            lightning=" 1.9", torch=" 1.13.1", python=" 3.10", gpus=" A100", install=""
        ),
        PYTORCH_46431,
        PYTORCH_52736,
        _checklist("1.7.0", STD_14_COMMAND, "Ubuntu 20.04", "2x RTX 3090 (24GB)", "10.1"),
        _checklist("1.8.0", "source", "Windows 10", "Tesla V100-SXM2-16GB, driver 450.80.02"),
    ]
)
PIECES = st.sampled_from(
    [
        " - ",
        "* ",
        "> ",
        ": ",
        " (e.g., ",
        ")",
        "[",
        "+cu110",
        "`",
        "/",
        " x 2",
        "cudatoolkit=",
        "\n",
    ]
)


def _holds(text: str) -> None:
    reading = read_template(text)
    if reading is not None:
        version = reading.fields.get("PyTorch version")
        assert version is None or version in text


# (context, fragment, tail): the state a pattern runs in, its repeated piece, a failing end
ADVERSARIAL = [
    (" - PyTorch Version (e.g., 1.0): ", "1.7.1 ", "x"),
    (" - PyTorch Version ", "(", ")"),
    (" - GPU models and configuration: ", "2x RTX 3090, ", "(24GB"),
    (" - GPU models and configuration: ", "1", " x"),
    (" - How you installed PyTorch: conda -c pytorch ", "cudatoolkit=", "1"),
    (" - How you installed PyTorch: pip ", "torch==1.7.1", "+cu"),
    (" - OS (e.g., Linux): ", "linux ", "x"),
    (" - Python version: ", "python ", "3."),
    (" - CUDA/cuDNN version: ", "driver ", "45"),
    (" - ", "- ", "x"),
    ("#- PyTorch Version (e.g., 1.10):", " #-", "1"),
]

FUZZ = ReaderFuzz((read_template,), LINES, PIECES, reach=120, holds=_holds)
test_real_lines_in_any_order_read_or_refuse = FUZZ.real_lines_test()
test_mangled_lines_never_raise = FUZZ.mangled_lines_test()
test_random_text_never_raises = FUZZ.any_text_test()
test_a_long_adversarial_line_stays_in_bound = FUZZ.adversarial_test(ADVERSARIAL)
