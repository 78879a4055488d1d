"""container/options.plainly_a_reference is a subset of envlock.imageref's grammar: what
it accepts without loading imageref, Docker (and imageref) accept too."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envlock.container.options import plainly_a_reference
from envlock.imageref import is_image_id, parse_or_none
from tests.fuzz.test_fuzz import EXAMPLES, FUZZ

pytestmark = pytest.mark.fuzz

# the characters of references and of the ways they go wrong
_CHARS = "abz09AZ._-:/@+ \u00e9"
_PART = st.text(alphabet="abz09-_.", min_size=0, max_size=12)


@settings(FUZZ, deadline=None, max_examples=EXAMPLES)
@given(st.text(alphabet=_CHARS, max_size=80))
def test_what_the_plain_form_accepts_imageref_accepts(text: str) -> None:
    if plainly_a_reference(text):
        assert parse_or_none(text) is not None or is_image_id(text), text


@settings(FUZZ, deadline=None, max_examples=EXAMPLES)
@given(st.lists(_PART, min_size=1, max_size=4), st.none() | _PART, st.integers(0, 300))
def test_names_and_tags_near_the_limits(parts: list[str], tag: str | None, pad: int) -> None:
    text = "/".join(parts) + ("a" * pad) + (f":{tag}" if tag is not None else "")
    if plainly_a_reference(text):
        assert parse_or_none(text) is not None, text
