"""pasted/pip_torch.torch_from_pip_list (via collect_env's reader) on built library lists and
random versions: never raises; torch is read only from a version whose local tag names a
build (+cuNNN, +cpu, +rocmX.Y), and then with that build; any other version leaves torch
unread, never guessed."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envlock.errors import FactsError
from envlock.pasted import facts_from_texts
from tests.fuzz.test_fuzz import EXAMPLES, FUZZ

pytestmark = pytest.mark.fuzz

_TAGGED = re.compile(r"\d+\.\d+(?:\.\d+)?(?:[a-z]+\d*)?\+(cu\d{2,4}|cpu|rocm\d+(?:\.\d+)*)")

_versions = st.one_of(
    st.builds(
        lambda a, b, c, tag: f"{a}.{b}.{c}+{tag}",
        st.integers(0, 99),
        st.integers(0, 99),
        st.integers(0, 99),
        st.sampled_from(["cu118", "cu1281", "cpu", "rocm6.2.3", "rocm7", "xpu", "9ddd3df", "cu1"]),
    ),
    st.text(alphabet="0123456789.+abcumpr-", min_size=1, max_size=30),
)


@settings(FUZZ, deadline=None, max_examples=min(EXAMPLES, 300))
@given(version=_versions, quoted=st.booleans(), audio=_versions)
def test_a_library_list_reads_torch_only_from_a_build_tag(
    version: str, quoted: bool, audio: str
) -> None:
    prefix = "> " if quoted else ""
    lines = [
        "Versions of relevant libraries:",
        "[pip3] numpy==1.26.4",
        f"[pip3] torch=={version}",
        f"[pip3] torchaudio=={audio}",
        "[conda] Could not collect",
    ]
    text = "".join(prefix + line + "\n" for line in lines)
    try:
        facts = facts_from_texts(collect_env=text)
    except FactsError:
        return  # one clear line, the documented exit
    torch = facts.torch
    if torch.installed:
        assert torch.version is not None and _TAGGED.fullmatch(torch.version), torch
        tag = torch.version.partition("+")[2]
        assert torch.build == tag
        assert (torch.hip is not None) == tag.startswith("rocm")
        assert (torch.cuda is not None) == tag.startswith("cu")
    else:
        assert torch.version is None or not _TAGGED.fullmatch(torch.version)


@settings(FUZZ, deadline=None, max_examples=min(EXAMPLES, 200))
@given(text=st.text(alphabet=st.characters(codec="utf-8"), max_size=300))
def test_random_text_after_a_torch_line_never_raises(text: str) -> None:
    """Whatever follows, the reader answers Facts (torch, if read, a tagged version) or
    FactsError, nothing else."""
    try:
        facts = facts_from_texts(collect_env="[pip3] torch==2.3.0+rocm6.2.3\n" + text)
    except FactsError:
        return
    version = facts.torch.version
    if "version" in text.lower():  # a 'PyTorch version' line of its own is read as it says
        return
    assert not facts.torch.installed or (version is not None and _TAGGED.fullmatch(version))
