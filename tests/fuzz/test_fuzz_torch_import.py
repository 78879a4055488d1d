"""pasted/torch_import on random text and on the real import errors it reads, mutated: never
raises, reads only one of its kinds, its note reads back to the same failure, the words
function answers for any note, and a long adversarial text stays in the fuzz deadline
(literal finds, bounded matches: linear time).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envlock.pasted.torch_import import (
    failure_in_notes,
    find_import_failure,
    import_failure_words,
    read_torch_import,
)
from tests.fuzz.test_fuzz import EXAMPLES, FUZZ
from tests.pasted.test_torch_import_error import (
    ABSENT,
    FLASH_ATTN_SYMBOL,
    LINUX_CUDNN,
    LINUX_IJIT,
    PIP_BUILD,
    TORCHVISION_SO,
    WIN_DLL_C,
    WIN_DLL_C_IPYTHON,
    WIN_FBGEMM,
)

pytestmark = pytest.mark.fuzz

_KINDS = {"dll", "dll-c", "so", "symbol", "absent"}
_REAL = [
    WIN_FBGEMM,
    WIN_DLL_C,
    WIN_DLL_C_IPYTHON,
    LINUX_CUDNN,
    LINUX_IJIT,
    ABSENT,
    TORCHVISION_SO,
    FLASH_ATTN_SYMBOL,
    PIP_BUILD,
]


def _holds(text: str) -> None:
    reading = read_torch_import(text)
    failure = find_import_failure(text)
    assert failure is None or failure.kind in _KINDS
    if reading is not None:
        assert failure is not None and reading.fields == {"PyTorch version": "N/A"}
        assert failure_in_notes(reading.notes) == failure
        named = import_failure_words(reading.notes, "python")
        assert named is None or all(named)


@settings(FUZZ, deadline=2000, max_examples=min(EXAMPLES, 300))
@given(text=st.text(max_size=600))
def test_random_text(text: str) -> None:
    _holds(text)


@settings(FUZZ, deadline=2000, max_examples=min(EXAMPLES, 300))
@given(
    base=st.sampled_from(_REAL),
    cut=st.integers(min_value=0, max_value=2000),
    insert=st.text(max_size=40),
    at=st.integers(min_value=0, max_value=2000),
)
def test_real_errors_mutated(base: str, cut: int, insert: str, at: int) -> None:
    text = base[: len(base) - cut % (len(base) + 1)]
    at %= len(text) + 1
    _holds(text[:at] + insert + text[at:])


@settings(FUZZ, deadline=2000, max_examples=min(EXAMPLES, 300))
@given(note=st.text(max_size=200))
def test_any_note(note: str) -> None:
    named = import_failure_words([note], "python")
    assert named is None or all(named)


@settings(FUZZ, deadline=None, max_examples=5)
@given(repeat=st.integers(min_value=20_000, max_value=60_000))
def test_a_long_adversarial_text(repeat: int) -> None:
    pieces = (
        'Error loading "x\\torch\\lib\\',
        "ImportError: DLL load failed",
        'File "/torch/__init__.py" ',
        ": undefined symbol: ",
        "No module named 'torch'",
    )
    one_line = "".join(pieces) * repeat
    many_lines = "\n".join(pieces * repeat)
    for text in (one_line, many_lines):
        _holds(text)
