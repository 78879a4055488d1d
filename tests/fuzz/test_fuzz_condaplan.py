"""The reader of conda's package plans (envlock/pasted/condaplan.py) on outside input: random
compositions of real plan lines and mangled pieces end in Facts or one FactsError line, never a
traceback; every version read is one the text holds; adversarial 1 MB lines built from its
patterns' fragments finish within the bound (tests/fuzz/pastes.py's harness, CPU-bounded per
example by tests/fuzz/cpubound.py)."""

from __future__ import annotations

import pytest
from hypothesis import strategies as st

from envlock.pasted.condaplan import read_conda_plan, read_plan
from tests.fuzz.pastes import ReaderFuzz, lines_of
from tests.pasted.test_condaplan import (
    HEALTHY_CU113,
    MAMBA,
    REPODATA,
    SUPERSEDED_CPU,
    UPDATED,
    VISION_113,
    VISION_4240,
    VISION_7022,
)

pytestmark = pytest.mark.fuzz

LINES = lines_of(
    [HEALTHY_CU113, MAMBA, REPODATA, SUPERSEDED_CPU, UPDATED, VISION_113, VISION_4240, VISION_7022]
)
PIECES = st.sampled_from(
    ["::", "/", "-", " --> ", "~", "|", ": ", "`", " ", "pytorch", "Proceed ([y]/n)? n", "\n"]
)


def _holds(text: str) -> None:
    for planned in read_plan(text).values():
        assert planned.version in text and planned.build in text
    reading = read_conda_plan(text)
    if reading is not None:
        version = reading.fields.get("PyTorch version")
        assert version is None or version in text


# (context, fragment, tail): the state a pattern runs in, its repeated piece, a failing end
ADVERSARIAL = [
    ("  pytorch            ", "pytorch/linux-64/", "::"),
    ("  pytorch            ", "a/", "x"),
    ("  pytorch            pytorch::", "pytorch-1", "-"),
    ("  pytorch ", "x::y ", "~"),
    ("  torchvision  ", "0.2.1-py_2 --> ", "x"),
    ("The following packages will be downloaded:\n    ", "pytorch-1.9.0 ", "|"),
    ("The following NEW packages will be INSTALLED:\n    ", "torchvision: ", "0"),
    ("", "::", "-"),
    ("  + pytorch  1.11.0  ", "cuda112py39ha0cca9b_1", " a/"),
    ("  + pytorch  1.11.0  b  ", "a/", "/"),
    ("", "torchvision a::torchvision-0.1-b ", "x"),
    ("", "a::torchvision-0.1-b --> ", "x"),
    ("", " --> ", "::x"),
]

FUZZ = ReaderFuzz((read_conda_plan,), LINES, PIECES, reach=120, holds=_holds)
test_real_lines_in_any_order_read_or_refuse = FUZZ.real_lines_test()
test_mangled_lines_never_raise = FUZZ.mangled_lines_test()
test_random_text_never_raises = FUZZ.any_text_test()
test_a_long_adversarial_line_stays_in_bound = FUZZ.adversarial_test(ADVERSARIAL)
