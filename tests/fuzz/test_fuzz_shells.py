"""checks/shells.one_command_a_line (Windows fixes, one command a line) on random fixes:
every command of every chain comes out on a line of its own, whole and in order, with no
`&&` left; text without a chain is returned as it is.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envlock.checks.shells import one_command_a_line
from tests.fuzz.test_fuzz import EXAMPLES, FUZZ

pytestmark = pytest.mark.fuzz

# commands as the checks write them: words of names, pins and URLs, never the chain's
# separators or the characters that end a chain (" (" before a label, "; " before a road)
# (a word may hold ':' as a URL does, never end with it: ": " leads prose to a command)
_WORD = st.from_regex(r'[A-Za-z0-9_.=*"/:-]{0,11}[A-Za-z0-9_.=*"/-]', fullmatch=True)
_COMMAND = st.builds(
    lambda head, words: " ".join([head, *words]),
    st.sampled_from(["pip uninstall -y", "pip install", "conda remove --force"]),
    st.lists(_WORD, min_size=1, max_size=5),
)
_PROSE = st.from_regex(r"[a-z ]{0,20}", fullmatch=True)


@settings(FUZZ, deadline=None, max_examples=min(EXAMPLES, 300))
@given(
    chains=st.lists(st.lists(_COMMAND, min_size=2, max_size=4), min_size=1, max_size=3),
    prose=st.lists(_PROSE, min_size=3, max_size=3),
)
def test_every_command_is_a_line_of_its_own(chains: list[list[str]], prose: list[str]) -> None:
    roads = [
        f"{prose[i % 3].strip() or 'do'}: " + " && ".join(c) + "  (torch 2.2 cu121)"
        for i, c in enumerate(chains)
    ]
    text = "; or ".join(roads)
    out = one_command_a_line(text)
    assert "&&" not in out
    lines = out.splitlines()
    wanted = [c for chain in chains for c in chain]
    found = [line for line in lines if line in wanted]
    assert found == wanted, (text, out)


@settings(FUZZ, deadline=None, max_examples=min(EXAMPLES, 200))
@given(st.text(max_size=200))
def test_text_without_a_chain_is_left_as_it_is(text: str) -> None:
    if " && " not in text:
        assert one_command_a_line(text) == text
