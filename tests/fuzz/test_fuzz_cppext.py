"""The readers of an extension build's CUDA messages and ColossalAI's installation table
(envlock/pasted/cppext.py) and of a logger's record prefix (envlock/pasted/log_prefix.py's
_unlogged) on outside input: random compositions of real lines and mangled pieces end in
Facts or one FactsError line, never a traceback; the versions read are ones the text holds;
adversarial 1 MB lines built from the patterns' fragments finish within the bound
(tests/fuzz/pastes.py's harness, CPU-bounded per example by tests/fuzz/cpubound.py)."""

from __future__ import annotations

import pytest
from hypothesis import strategies as st

from envlock.pasted.cppext import read_cpp_extension
from envlock.pasted.log_prefix import undo_log_prefix
from tests.conftest import FIXTURES
from tests.fuzz.pastes import ReaderFuzz, lines_of
from tests.pasted.test_cppext import (
    COLOSSAL_TABLE,
    DEEPSPEED_ACCEPTED,
    DEEPSPEED_REFUSAL,
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
        DEEPSPEED_REFUSAL,
        DEEPSPEED_ACCEPTED,
        COLOSSAL_TABLE.format(system="11.3", aot="x"),
        *((CE / n).read_text() for n in ("ColossalAI-2973.txt", "ColossalAI-3002.txt")),
        (CE / "mmdeploy-2743.txt").read_text(),
    ]
)
PIECES = st.sampled_from(
    ["(", ")", "**", "12.1", ". ", "\n", " - ", "mmengine", "INFO", "compile", "PyTorch ", "x"]
)


def _logged(line: str) -> list[str]:
    return undo_log_prefix([line, line, line])


def _holds(text: str) -> None:
    reading = read_cpp_extension(text)
    if reading is not None:
        assert all(value in text for value in reading.fields.values())
    assert len(undo_log_prefix(text.splitlines())) == len(text.splitlines())


# (context, fragment, tail): the state a pattern runs in, its repeated piece, a failing end
ADVERSARIAL = [
    ("The ", "detected CUDA version (", "1"),
    ("", "Installed CUDA version ", "1"),
    ("Installed CUDA version 12.1 does not match the version torch", ">", "x"),
    ("The detected CUDA version (12.1) mismatches the version that was used to compile", " ", "x"),
    ("The detected CUDA version (12.1) mismatches the version that was used to compile", ">", "("),
    ("CUDA version required by PyTorch: ", "**", "1"),
    ("", "System CUDA version: ", "x"),
    ("04/22 04:09:09 - ", "mmengine", " - INFO"),
    ("", "04/22 04:09:09 - m - INFO - ", "x"),
    ("2021-03-01 12:00:00", ",1", " - "),
]

FUZZ = ReaderFuzz((read_cpp_extension, _logged), LINES, PIECES, reach=120, holds=_holds)
test_real_lines_in_any_order_read_or_refuse = FUZZ.real_lines_test()
test_mangled_lines_never_raise = FUZZ.mangled_lines_test()
test_random_text_never_raises = FUZZ.any_text_test()
test_a_long_adversarial_line_stays_in_bound = FUZZ.adversarial_test(ADVERSARIAL)
