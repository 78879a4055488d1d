"""torch's statements read through pasted/hearsay.py (issue 21, session 12): torch 2.8-2.10's
capability range, the cuDNN check in any wrapper, the NGC banner and the capability warnings
told as another machine's, on outside input. Compositions and mangled copies of their real
lines end in Facts or one FactsError line, never a traceback; a floor read is one of the
text's own ranges and a stated cuDNN one the text holds; 1 MB adversarial lines built from
the patterns' and the sentence rules' pieces finish within the bound (tests/fuzz/pastes.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from envlock.pasted.draft import Draft
from envlock.pasted.hearsay import not_this_machines, not_this_machines_in
from envlock.pasted.libmessages import read_lib_messages
from envlock.pasted.torch_warnings import TORCH_CUDNN_COMPILED, torch_warnings
from tests.fuzz import pastes
from tests.pasted import test_torch_said_anywhere as said
from tests.pasted import test_torch_wordings as wordings

pytestmark = pytest.mark.fuzz

TEXTS = [
    (wordings.CE / "sd-webui-forge-classic-583.txt").read_text(),
    (wordings.CE / "sglang-13198.txt").read_text(),
    (wordings.CE / "Co-GAT-2.txt").read_text(),
    (wordings.CONTROLS / "pytorch-104757.txt").read_text(),
    *wordings.WRAPPED.values(),
    *wordings.QUOTED.values(),
    *(line for line, _ in wordings.TOLD.values()),
    *(line for line, _ in said.QUESTIONS.values()),
    *said.NOT_COMPILED_TOLD.values(),
    *said.DRIVER_TOLD.values(),
    (wordings.CE / "kaolin-17.txt").read_text(),
    "ERROR: This container was built for NVIDIA Driver Release 530.30 or later, but version "
    "470.182.03 was detected and compatibility mode is UNAVAILABLE.\n",
    "On the old server we saw 'This container was built for NVIDIA Driver Release 450.36 or "
    "later, but version 440.100 was detected and compatibility mode is UNAVAILABLE'.\n",
]
LINES = pastes.lines_of(TEXTS)
PIECES = st.sampled_from(
    [
        *("'", '"', "`", ": ", "\uff1a", "?", ". ", "I got ", "old PC", "went away", "(7.5) - "),
        *("\n", "When I run ", "Why do I get ", " too old(found version 10000)"),
    ]
)


def _lines_read(text: str) -> Draft:
    d = Draft()
    for line in text.split("\n"):
        torch_warnings(line, d)
    return d


def _held(text: str) -> None:
    """A floor read is a range the text holds; a cuDNN torch says it was compiled against is
    one the text names as a tuple."""
    d = _lines_read(text)
    floor = d.live.get("min_capability")
    if floor is not None:
        assert f"({floor})" in text or f"is {floor}" in text
    for note in d.notes:
        if note.startswith(TORCH_CUDNN_COMPILED):
            compiled = note[len(TORCH_CUDNN_COMPILED) :].split(" ", 1)[0]
            assert f"({compiled.replace('.', ', ')})" in text
    read_lib_messages(text)


@pastes.PASTE
@given(lines=pastes.real_lines(LINES, 30))
def test_real_lines_in_any_order_read_or_refuse(lines: list[str]) -> None:
    text = "\n".join(lines)
    _held(text)
    pastes.read_or_refuse(text)


@pastes.PASTE
@given(lines=pastes.real_lines(LINES, pastes.MANGLED_LINES), cuts=pastes.cut_list(PIECES, 300))
def test_mangled_lines_never_raise(lines: list[str], cuts: list[tuple[int, int, str]]) -> None:
    text = pastes.mangle(lines, cuts)
    _held(text)
    pastes.checked(text)


@pastes.PASTE
@given(text=pastes.ANY_TEXT, start=st.integers(0, 700), size=st.integers(0, 700))
def test_any_line_and_span_is_a_yes_or_a_no(text: str, start: int, size: int) -> None:
    for told in (not_this_machines, not_this_machines_in):
        assert told(text, start, start + size) in (True, False)
    _held(text)


# (context, fragment, tail): the pieces repeated, the match failing at the very end
_RANGE = "Minimum and Maximum cuda capability supported by this version of PyTorch is"
ADVERSARIAL = [
    ("Found GPU0 Tesla V100 which is of cuda capability 7.0.", f"{_RANGE} ", "(7.5) -"),
    ("", f"{_RANGE} (7.5) - (12", ")"),
    ("In #1 people saw '", "RTX 3090 with CUDA capability sm_86 is not compatible '", "x"),
    ("", "' \" ` I got ", "GPU with CUDA capability sm_86 is not compatible"),
    ("", "went away old ", "GPU with CUDA capability sm_86 is not compatible"),
    ("", "cuDNN version incompatibility: PyTorch was compiled  against (8, 5, 0) ", "x"),
    ("'", f"{wordings.CUDNN} ", "x"),
    ("", "This container was built for NVIDIA Driver Release 450.36 or later, but ", "x"),
    (
        "On the old server '",
        "This container was built for NVIDIA Driver Release 450.36 or later, but version "
        "440.100 was detected and compatibility mode is UNAVAILABLE ",
        "x",
    ),
    ("", "Torch not compiled with CUDA enabled' ", "x"),
    # torch's driver words retold (session 13): each "too old" looks 40 characters back
    ("", "driver on my system is too old ", "(found version 1"),
    ("driver on your system is", " too old(found version ", "x"),
    ("Is '", "Torch not compiled with CUDA enabled' . ", "x"),
]


def _whole_text(line: str) -> None:
    _lines_read(line)
    read_lib_messages(line)


@pytest.mark.parametrize("case", ADVERSARIAL, ids=[c[1][:24] for c in ADVERSARIAL])
def test_a_1_mb_adversarial_line_is_within_the_bound(case: tuple[str, str, str]) -> None:
    pastes.assert_in_bound([_whole_text], pastes.adversarial_line(case), case[1][:40])
