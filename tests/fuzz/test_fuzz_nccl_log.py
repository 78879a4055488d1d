"""pasted/nccl_log.shm_failure and the paste path that calls it (pasted/toolenv), on NCCL's
real logs mutated, random text and long adversarial lines: never raises, keeps at most
MAX_SEEN_CHARS of what it saw, reads a failure only from a line that says one, and stays
linear (each example under the suite's CPU bound, tests/fuzz/cpubound.py)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envlock.errors import FactsError
from envlock.pasted import facts_from_texts
from envlock.pasted.nccl_log import MAX_SEEN_CHARS, shm_failure
from tests.fuzz.test_fuzz import EXAMPLES, FUZZ
from tests.pasted import nccl_logs as logs

pytestmark = pytest.mark.fuzz

_SAYS = ("no space left on", "shared memory segment", "failed to extend", "posix_fallocate")


@st.composite
def _mutated(draw: st.DrawFn) -> str:
    """A real log with a few characters inserted, deleted or replaced, lines joined or cut."""
    text = draw(st.sampled_from([*logs.ROOM, *logs.NOT_ROOM]))
    for _ in range(draw(st.integers(0, 6))):
        at = draw(st.integers(0, len(text)))
        piece = draw(st.text(alphabet="\n :()-,/[]0123456789abcNCLWARn", max_size=8))
        cut = draw(st.integers(0, 8))
        text = text[:at] + piece + text[at + cut :]
    return text


def _holds(text: str) -> None:
    seen = shm_failure(text)
    if seen is not None:
        assert len(seen) <= MAX_SEEN_CHARS
        assert any(s in seen.lower() for s in _SAYS) or seen.endswith("..."), seen


@settings(FUZZ, deadline=None, max_examples=min(EXAMPLES, 300))
@given(text=_mutated())
def test_a_mutated_nccl_log_is_read_or_not_never_raised(text: str) -> None:
    _holds(text)


@settings(FUZZ, deadline=None, max_examples=min(EXAMPLES, 200))
@given(text=st.text(alphabet=st.characters(codec="utf-8"), max_size=400))
def test_random_text_never_raises(text: str) -> None:
    _holds(text)


@settings(FUZZ, deadline=None, max_examples=min(EXAMPLES, 50))
@given(
    unit=st.sampled_from(
        [
            "Error while creating shared memory segment (size ",
            "No space left on device (",
            "NCCL WARN Cuda failure ",
            "failed to extend /dev/shm/nccl- , error: ",
            "nccl ncll ",
        ]
    ),
    n=st.integers(1_000, 8_000),
)
def test_a_long_adversarial_line_is_linear(unit: str, n: int) -> None:
    _holds(unit * n)


@settings(FUZZ, deadline=None, max_examples=min(EXAMPLES, 150))
@given(text=_mutated(), listed=st.booleans())
def test_the_paste_path_answers_facts_or_one_error(text: str, listed: bool) -> None:
    paste = (logs.HAND_LIST if listed else "") + text
    try:
        facts = facts_from_texts(collect_env=paste)
    except FactsError:
        return  # one clear line, the documented exit
    seen = facts.system.shm_failure
    assert seen is None or len(seen) <= MAX_SEEN_CHARS
