"""The readers of an extension build's CUDA messages and ColossalAI's installation table
(envlock/pasted/cppext.py) and of a logger's record prefix (envlock/pasted/log_prefix.py's
_unlogged) on outside input: random compositions of real lines and mangled pieces end in
Facts or one FactsError line, never a traceback; the versions read are ones the text holds;
adversarial 1 MB lines built from the patterns' fragments finish within the bound
(tests/fuzz/pastes.py's harness, CPU-bounded per example by tests/fuzz/cpubound.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from envlock.pasted.cppext import read_cpp_extension
from envlock.pasted.log_prefix import undo_log_prefix
from tests.conftest import FIXTURES
from tests.fuzz.pastes import (
    ANY_TEXT,
    MANGLED_LINES,
    PASTE,
    adversarial_line,
    assert_in_bound,
    checked,
    cut_list,
    lines_of,
    mangle,
    read_or_refuse,
    real_lines,
)
from tests.pasted.test_cppext import (
    COLOSSAL_TABLE,
    MINOR_WARNING,
    TORCH1_MINOR_REFUSAL,
    TORCH2_REFUSAL,
)

pytestmark = pytest.mark.fuzz

CE = FIXTURES / "collect_env"
LINES = lines_of(
    [
        TORCH2_REFUSAL,
        TORCH1_MINOR_REFUSAL,
        MINOR_WARNING,
        COLOSSAL_TABLE.format(system="11.3", aot="x"),
        *((CE / n).read_text() for n in ("ColossalAI-2973.txt", "ColossalAI-3002.txt")),
        (CE / "mmdeploy-2743.txt").read_text(),
    ]
)
PIECES = st.sampled_from(
    ["(", ")", "**", "12.1", ". ", "\n", " - ", "mmengine", "INFO", "compile", "PyTorch ", "x"]
)


@PASTE
@given(lines=real_lines(LINES, 30))
def test_real_lines_in_any_order_read_or_refuse(lines: list[str]) -> None:
    read_or_refuse("\n".join(lines))


@PASTE
@given(lines=real_lines(LINES, MANGLED_LINES), cuts=cut_list(PIECES, 120))
def test_mangled_lines_never_raise(lines: list[str], cuts: list[tuple[int, int, str]]) -> None:
    text = mangle(lines, cuts)
    reading = read_cpp_extension(text)
    if reading is not None:
        assert all(value in text for value in reading.fields.values())
    assert len(undo_log_prefix(text.splitlines())) == len(text.splitlines())
    checked(text)


@PASTE
@given(text=ANY_TEXT)
def test_random_text_never_raises(text: str) -> None:
    read_cpp_extension(text)
    undo_log_prefix(text.splitlines())


def _logged(line: str) -> list[str]:
    return undo_log_prefix([line, line, line])


# (context, fragment, tail): the state a pattern runs in, its repeated piece, a failing end
ADVERSARIAL = [
    ("The ", "detected CUDA version (", "1"),
    ("The detected CUDA version (12.1) mismatches the version that was used to compile", " ", "x"),
    ("The detected CUDA version (12.1) mismatches the version that was used to compile", ">", "("),
    ("CUDA version required by PyTorch: ", "**", "1"),
    ("", "System CUDA version: ", "x"),
    ("04/22 04:09:09 - ", "mmengine", " - INFO"),
    ("", "04/22 04:09:09 - m - INFO - ", "x"),
    ("2021-03-01 12:00:00", ",1", " - "),
]


@pytest.mark.parametrize("case", ADVERSARIAL, ids=lambda c: repr(c[1])[:24])
def test_a_long_adversarial_line_stays_in_bound(case: tuple[str, str, str]) -> None:
    assert_in_bound((read_cpp_extension, _logged), adversarial_line(case), repr(case))
