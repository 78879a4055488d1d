"""Versions printed as a JSON object or dict (envlock/pasted/depsjson.py) on outside input:
random compositions of real objects' lines and mangled pieces end in Facts or one FactsError
line, never a traceback, and nothing in them is evaluated; a torch version read is one a quoted
string of the text holds; adversarial 1 MB lines (keys, braces, quotes, unclosed strings)
finish within the bound."""

from __future__ import annotations

import pytest
from hypothesis import strategies as st

from envlock.pasted.depsjson import read_versions_object
from tests.fuzz import pastes
from tests.pasted import test_depsjson as cases
from tests.pasted.test_tool_reports import _report

pytestmark = pytest.mark.fuzz

TEXTS = [_report("InvokeAI-7934.txt"), cases.EVERY_DISTRIBUTION, cases.ASSIGNED]
LINES = pastes.lines_of(TEXTS)
PIECES = st.sampled_from(
    ['"', "'", "\\", "\n", "\n\n", "{", "}", ": ", '"torch": ', "null", "= ", '"2.1.0+cu121"']
)


def _holds(text: str) -> None:
    reading = read_versions_object(text)
    if reading is not None:
        version = reading.fields["PyTorch version"]
        assert version in text.replace("\n", "")
        assert reading.notes


FUZZ = pastes.ReaderFuzz((read_versions_object,), LINES, PIECES, holds=_holds)
test_real_lines_in_any_order_read_or_refuse = FUZZ.real_lines_test()
test_mangled_lines_never_raise = FUZZ.mangled_lines_test()
test_random_text_never_raises = FUZZ.any_text_test()


def test_the_real_objects_are_read() -> None:
    # the strategies above draw from these; each is one of the reader's own cases
    assert read_versions_object(TEXTS[0]) is not None
    assert read_versions_object(TEXTS[1]) is not None


# (context, fragment, tail): the state a pattern runs in, its repeated piece, a failing end
ADVERSARIAL = [
    ("{", '"torch": ', "x"),
    ("", '{"torch": "2.1.0", ', "x"),
    ("{", '"', "x"),
    ("{\n", '"a": "\\', "x"),
    ("", '"x": ', '"torch":'),
    ("", "{ ", '"torch": "2.1.0", "torchvision": "0.16.0"'),
    ("{", '"torch" :', "x"),
    ("", "\"': ", "{'torch': '2.1.0'"),
]

test_a_long_adversarial_line_stays_in_bound = FUZZ.adversarial_test(ADVERSARIAL)
