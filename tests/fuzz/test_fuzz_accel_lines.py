"""pasted/accel_lines.accelerator_line on random lines and on the lines it reads, mutated:
never raises, notes at most one accelerator a line, of a known kind, and stays in the fuzz
deadline on a long adversarial line (anchored patterns, no backtracking).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envlock.pasted.accel_lines import accelerator_line
from envlock.pasted.draft import ACCELERATOR_SEEN, Draft
from tests.fuzz.test_fuzz import EXAMPLES, FUZZ

pytestmark = pytest.mark.fuzz

_KINDS = {"hpu", "neuron", "tpu", "xpu", "ascend"}
_REAL = [
    "INFO 02-04 13:34:55 __init__.py:192] Automatically detected platform hpu.",
    "HPU devices: 8x HL-325L",
    "HPU driver version: 1.20.1-366eb9c",
    "package_name=Ascend-cann-toolkit",
]


def _kinds(d: Draft) -> list[str]:
    return [n.removeprefix(ACCELERATOR_SEEN).split(":")[0] for n in d.notes]


@settings(FUZZ, deadline=2000, max_examples=min(EXAMPLES, 300))
@given(line=st.text(max_size=300))
def test_random_lines(line: str) -> None:
    d = Draft()
    accelerator_line(line, d)
    assert len(d.notes) <= 1 and set(_kinds(d)) <= _KINDS


@settings(FUZZ, deadline=2000, max_examples=min(EXAMPLES, 300))
@given(base=st.sampled_from(_REAL), head=st.text(max_size=20), tail=st.text(max_size=20))
def test_real_lines_with_text_around(base: str, head: str, tail: str) -> None:
    d = Draft()
    accelerator_line(head + base + tail, d)
    assert set(_kinds(d)) <= _KINDS


@settings(FUZZ, deadline=2000, max_examples=5)
@given(repeat=st.integers(min_value=50_000, max_value=200_000))
def test_a_long_adversarial_line(repeat: int) -> None:
    d = Draft()
    accelerator_line("HPU devices" + " " * repeat + "Automatically detected platform " * 3, d)
    assert len(d.notes) <= 1
