"""ChatGLM's issue template (envlock/pasted/templenv.py) on outside input: random
compositions of its real lines and mangled pieces end in Facts or one FactsError line, never
a traceback; CUDA availability is read only beside the template's own command line, a torch
version only from a '- PyTorch:' value the text holds; adversarial 1 MB lines finish within
the bound."""

from __future__ import annotations

import pytest
from hypothesis import strategies as st

from envlock.pasted.templenv import read_template
from tests.fuzz import pastes
from tests.pasted import test_chatglm_template as cases
from tests.pasted.test_tool_reports import _report

pytestmark = pytest.mark.fuzz

TEXTS = [
    _report("ChatGLM2-6B-251.txt"),
    _report("ChatGLM-6B-343.txt"),
    _report("ChatGLM-6B-309.txt"),
    cases.FILLED,
]
LINES = pastes.lines_of(TEXTS)
PIECES = st.sampled_from(
    ["- ", ":", "`", "(", ")", "Ture", "True", " ", "is_available()", "\n", "PyTorch:"]
)


def _holds(text: str) -> None:
    reading = read_template(text)
    if reading is None:
        return
    if "Is CUDA available" in reading.fields:
        assert "is_available()" in text or "cuda available" in text.lower()
    version = reading.fields.get("PyTorch version")
    if version is not None:
        assert version in text


FUZZ = pastes.ReaderFuzz((read_template,), LINES, PIECES, holds=_holds)
test_real_lines_in_any_order_read_or_refuse = FUZZ.real_lines_test()
test_mangled_lines_never_raise = FUZZ.mangled_lines_test()
test_random_text_never_raises = FUZZ.any_text_test()


def test_the_real_templates_are_read() -> None:
    # the strategies above draw from these; each is one of the reader's own cases
    assert all(read_template(text) is not None for text in TEXTS)


# (context, fragment, tail): the state a pattern runs in, its repeated piece, a failing end
ADVERSARIAL = [
    ("- CUDA Support ", "(`", "x"),
    ("- CUDA Support (`", "a", "x"),
    ("", "- CUDA Support (`x`) ", "x"),
    ("- PyTorch:", " ", "x"),
    ("", "- Transformers: 4.", "x"),
]

test_a_long_adversarial_line_stays_in_bound = FUZZ.adversarial_test(ADVERSARIAL)
