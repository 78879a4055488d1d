"""OpenMMLab's collect_env repr (envlock/pasted/mmrepr.py) on outside input: random
compositions of real reprs' lines and mangled pieces end in Facts or one FactsError line,
never a traceback, and nothing in them is evaluated; a torch version read is one a quoted
string of the text holds; adversarial 1 MB lines (quotes, escapes, unclosed strings) finish
within the bound."""

from __future__ import annotations

import pytest
from hypothesis import strategies as st

from envlock.pasted.mmrepr import env_pairs, read_mm_repr
from tests.fuzz import pastes
from tests.pasted import test_mm_repr as cases
from tests.pasted.test_tool_reports import _report

pytestmark = pytest.mark.fuzz

TEXTS = [
    _report("mmcv-3071.txt"),
    _report("mmpose-2478.txt"),
    cases.WRAPPED,
    cases.SOURCE,
    cases.TAIL_N1,
]
LINES = pastes.lines_of(TEXTS)
PIECES = st.sampled_from(
    [
        *("'", '"', "\\", "\n", "('", "', ", "': ", "True", "), (", "{", "}", "\\n"),
        *("__import__(", "Build cuda_", "CUDA Runtime "),
    ]
)


def _holds(text: str) -> None:
    env_pairs(text)
    reading = read_mm_repr(text)
    if reading is not None:
        version = reading.fields["PyTorch version"]
        assert f"'{version}'" in text or f'"{version}"' in text or version in text.replace("\n", "")
        assert reading.notes


FUZZ = pastes.ReaderFuzz((read_mm_repr, env_pairs), LINES, PIECES, holds=_holds)
test_real_lines_in_any_order_read_or_refuse = FUZZ.real_lines_test()
test_mangled_lines_never_raise = FUZZ.mangled_lines_test()
test_random_text_never_raises = FUZZ.any_text_test()


def test_the_real_reprs_are_read() -> None:
    # the strategies above draw from these; each is one of the reader's own cases
    assert read_mm_repr(TEXTS[0]) is not None and read_mm_repr(TEXTS[1]) is not None


# (context, fragment, tail): the state a pattern runs in, its repeated piece, a failing end
ADVERSARIAL = [
    ("{'sys.platform': ", "'", "x"),
    ("{'sys.platform': '", "\\'", "x"),
    ("{'sys.platform': ", "'a': ", "x"),
    ("OrderedDict([('sys.platform', ", "('a', ", "x"),
    ("{'sys.platform': 'linux', 'PyTorch': ", " ", "x"),
    ("{'CUDA available': ", "\\", "'"),
    ("", "'sys.platform'", "x"),
    ("{'sys.platform': 'linux', ", "'GPU 0,", "x"),
    ("{'sys.platform': 'linux', 'NVCC': '", "Build cuda_1", "x"),
    ("{'sys.platform': 'linux', 'PyTorch compiling details': '", "CUDA Runtime 1", "x"),
]

test_a_long_adversarial_line_stays_in_bound = FUZZ.adversarial_test(ADVERSARIAL)
