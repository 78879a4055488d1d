"""torch's floor in a paste ("The minimum cuda capability supported by this library is 7.5",
pasted/torch_warnings.py): read wherever it sits on a line, in either of torch's wordings,
never a wrong value from text around it, and in linear time on 1 MB adversarial lines (the
issue's 1 s bound, measured as tests/fuzz/test_pasted_adversarial.py measures it)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envlock.pasted import facts_from_texts
from envlock.pasted.draft import Draft
from envlock.pasted.torch_warnings import torch_warnings
from tests.fuzz.pastes import adversarial_line, assert_in_bound
from tests.fuzz.test_fuzz import EXAMPLES, FUZZ

pytestmark = pytest.mark.fuzz

WORDINGS = ("supported by this library", "that we support")
HEAD = "Found GPU0 NVIDIA TITAN V which is of cuda capability 7.0. PyTorch no longer supports "
HEAD += "this GPU because it is too old. "


def _floor_of(line: str) -> str | None:
    d = Draft()
    torch_warnings(line, d)
    return d.live.get("min_capability")


# text around the sentence: anything but another floor sentence
_AROUND = st.text(max_size=80).filter(lambda s: "minimum cuda capability" not in s)


@settings(FUZZ, deadline=None, max_examples=EXAMPLES)
@given(
    before=_AROUND,
    after=_AROUND,
    wording=st.sampled_from(WORDINGS),
    major=st.integers(1, 12),
    minor=st.integers(0, 9),
)
def test_the_floor_is_read_wherever_it_sits(
    before: str, after: str, wording: str, major: int, minor: int
) -> None:
    sentence = f"The minimum cuda capability {wording} is {major}.{minor}."
    line = (before + sentence + after).replace("\n", " ")
    assert _floor_of(line) == f"{major}.{minor}"


@settings(FUZZ, deadline=None, max_examples=EXAMPLES)
@given(
    text=st.text(
        alphabet=st.sampled_from("The minimu cdaplytsr.0123456789\u0661\u0967 "), max_size=300
    )
    | st.text(max_size=300)
)
def test_any_text_gives_a_floor_of_the_grammar_or_none(text: str) -> None:
    floor = _floor_of(HEAD + text)
    # ASCII digits only: a Unicode digit torch never prints is no capability
    assert floor is None or re.fullmatch(r"[0-9]{1,2}\.[0-9]", floor), floor


def test_the_whole_path_reads_the_floor_from_a_warning_over_three_lines() -> None:
    text = HEAD.replace(". ", ".\n") + "The minimum cuda capability that we support is 3.5.\n"
    live = facts_from_texts(collect_env=text).torch.live
    assert live is not None and live.min_capability == "3.5"


# (fragment, tail): the pattern's pieces repeated, the match failing at the very end
ADVERSARIAL = [
    ("The minimum cuda capability ", "x"),
    ("The minimum cuda capability supported by this library is 7", "x"),
    ("The minimum cuda capability that we support is ", "."),
    ("minimum cuda capability The ", "is 7"),
]


@pytest.mark.parametrize(("fragment", "tail"), ADVERSARIAL, ids=[a[0][-16:] for a in ADVERSARIAL])
def test_a_1_mb_adversarial_line_is_under_1_s(fragment: str, tail: str) -> None:
    assert_in_bound([_floor_of], adversarial_line((HEAD, fragment, tail)), fragment)


def test_unicode_digits_are_no_floor() -> None:
    """torch prints ASCII; '\u0667.\u0665' (Arabic-Indic 7.5) in a paste is no capability."""
    assert _floor_of(HEAD + "The minimum cuda capability that we support is \u0667.\u0665.") is None
