"""What the prose and refusal readers leave alone (envlock/pasted/prose.py's _ELSEWHERE and
offered pins, envlock/pasted/precmsg.py's gone refusals and xFormers' stated capability; V1
findings F1, F2, F4, session 12) on outside input: a sentence of another time or machine states
nothing whatever it holds, a pin under words that offer it is no version, a refusal its own
sentence calls gone is no refusal, and the GPU xFormers states only the capability of is one
the text states; random compositions of real lines, mangled, end in Facts or one FactsError
line; adversarial 1 MB lines built from the new patterns' fragments finish within the bound
(tests/fuzz/pastes.py's harness, CPU-bounded per example)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from envlock.pasted.precmsg import XFORMERS_GPU, read_precision_refusals
from envlock.pasted.prose import read_prose
from tests.fuzz import pastes
from tests.pasted import test_precision_refusals as refusals
from tests.pasted import test_prose as cases

pytestmark = pytest.mark.fuzz

CONTROLS = ["WPFS-3.txt", "keras-hub-2087.txt", "segmentation_models.pytorch-282.txt"]
LINES = pastes.lines_of(
    [
        *((cases.CONTROLS / name).read_text() for name in CONTROLS),
        (refusals.CE / "mistral-finetune-107.txt").read_text(),
        refusals.XFORMERS_TURING,
        refusals.VLLM_T4,
        "On my own RTX 4090 the same command works.",
        "We no longer see 'Your setup doesn't support bf16/gpu' on the V100.",
        "I used to have torch 2.0.1+cpu on my RTX 3060.",
        "The CPU wheel (torch 2.1.0+cpu) got pulled in by requirements.txt on my RTX 4090.",
        "should be changed to:",
        "```",
        "+torch==2.0.1+cpu",
        "- torch==2.1.0+cu118",
        "My environment:",
    ]
)
PIECES = st.sampled_from(
    [
        "used to ",
        "previously ",
        "no longer ",
        " from ",
        " to ",
        "colleague's ",
        "\u2019s",
        "our test environment ",
        "\u6d4b\u8bd5\u73af\u5883",
        "torch==2.0.1+cpu",
        "```",
        "\n",
        ". ",
        "went away",
        "your GPU has capability (7, 5)",
        "device=cpu (supported: {'cuda'})",
        "bf16 is only supported on A100+ GPUs",
    ]
)
# the words _ELSEWHERE takes as another time or another machine, one per sentence drawn
MARKERS = st.sampled_from(
    [
        "I used to have",
        "previously",
        "before the fix",
        "my colleague's PC had",
        "someone else's box has",
        "on another machine",
        "the old server had",
        "our test environment:",
        "we upgraded it from",
        "it was fixed, and",
    ]
)
WORDS = st.sampled_from(["torch", "torch 2.0.1+cpu", "RTX 3060", "with", "an", "on", "my"])
OFFERS = st.sampled_from(["should be changed to:", "Try this instead:", "The fix:", "diff:"])
GONE = st.sampled_from(["no longer see", "went away:", "previously got", "is gone:"])


def _holds(text: str) -> None:
    """Each reader's own invariants: a version read is in the text; a GPU read is named by
    the text, or is the GPU xFormers states the capability of, with that capability."""
    reading = read_prose(text)
    version = reading.fields.get("PyTorch version") if reading else None
    assert version is None or version in text
    refused = read_precision_refusals(text)
    if refused is None:
        return
    squeezed = "".join(text.lower().split())
    flat = " ".join(text.lower().replace("\u2019", "'").split())
    for index, name in refused.gpus.items():
        capability = refused.capabilities[index]
        if name == XFORMERS_GPU:
            assert f"capability({capability.replace('.', ',')})" in squeezed, capability
        else:
            assert " ".join(name.lower().split()) in flat, name


@pastes.PASTE
@given(marker=MARKERS, words=st.lists(WORDS, min_size=1, max_size=8), at=st.integers(0, 8))
def test_a_sentence_of_another_time_or_machine_states_nothing(
    marker: str, words: list[str], at: int
) -> None:
    words.insert(min(at, len(words)), marker)
    assert read_prose(" ".join(words) + " torch 2.0.1+cpu on my RTX 3060.") is None


@pastes.PASTE
@given(offer=OFFERS, between=st.lists(st.sampled_from(["```", "", "```text"]), max_size=3))
def test_a_pin_under_words_that_offer_it_is_no_version(offer: str, between: list[str]) -> None:
    text = "\n".join([offer, *between, "torch==2.0.1+cpu", "```"])
    reading = read_prose(text)
    assert reading is None or "PyTorch version" not in reading.fields
    listed = read_prose(text.replace(offer, "My environment:"))
    assert listed is not None and listed.fields == {"PyTorch version": "2.0.1+cpu"}


@pastes.PASTE
@given(gone=GONE, refusal=st.sampled_from([r for r, _ in refusals.REFUSALS.values()]))
def test_a_refusal_its_sentence_calls_gone_is_no_refusal(gone: str, refusal: str) -> None:
    sentence = " ".join(refusal.split("\n")[-1].split())
    assert read_precision_refusals(f"We {gone} '{sentence}' on the V100 since.") is None


# (context, fragment, tail): the state a pattern runs in, its repeated piece, a failing end
ADVERSARIAL = [
    ("", "upgraded torch ", "x"),
    ("", "from torch 2.0.1 ", "x"),
    ("upgraded ", "x ", "from"),
    ("", "should be changed to:\n", "torch==2.0.1"),
    ("", "```\ntorch==2.0.1+cpu\n", "x"),
    ("", "no longer see bf16 is only supported on a100+ gpus ", "x"),
    ("", "bf16 is only supported on A100+ GPUs. ", "x"),
    ("bf16 is only supported on A100+ GPUs ", "but your GPU has capability (7, ", "x"),
    ("bf16 is only supported on A100+ GPUs ", "device=", "x"),
    ("Your Tesla T4 GPU has compute capability 7.5. ", "RTX 4090 works. ", "x"),
]


FUZZ = pastes.ReaderFuzz((read_prose, read_precision_refusals), LINES, PIECES, holds=_holds)
test_real_lines_in_any_order_read_or_refuse = FUZZ.real_lines_test()
test_mangled_lines_never_raise = FUZZ.mangled_lines_test()
test_random_text_never_raises = FUZZ.any_text_test()
test_a_long_adversarial_line_stays_in_bound = FUZZ.adversarial_test(ADVERSARIAL)
