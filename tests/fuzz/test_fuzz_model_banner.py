"""ComfyUI's model-management banner as Fooocus, Forge and ComfyUI print it
(envlock/pasted/webui.py) on outside input: random compositions of real banner lines and
mangled pieces end in Facts or one FactsError line, never a traceback; a GPU read is one a
'Device: cuda:N' line of the text names, and only beside a 'Total VRAM' line; adversarial
1 MB lines finish within the bound."""

from __future__ import annotations

import pytest
from hypothesis import strategies as st

from envlock.pasted.webui import read_webui
from tests.fuzz import pastes
from tests.pasted import test_model_banner as cases
from tests.pasted.test_tool_reports import _report

pytestmark = pytest.mark.fuzz

TEXTS = [
    _report("Fooocus-2497.txt"),
    cases.FOOOCUS_K80,
    cases.FOOOCUS_3070,
    cases.FORGE_AMD,
    cases.COMFY,
]
LINES = pastes.lines_of(TEXTS)
PIECES = st.sampled_from(
    ["Device: cuda:", "0 ", " : ", "native", "Total VRAM ", " MB", "[2024-11-06 23:40:40] ", "\n"]
)


def _holds(text: str) -> None:
    reading = read_webui(text)
    if reading is None:
        return
    assert "Total VRAM" in text or "PyTorch version" in reading.fields
    for index, name in reading.gpus.items():
        assert f"cuda:{index} {name}" in text


FUZZ = pastes.ReaderFuzz((read_webui,), LINES, PIECES, holds=_holds)
test_real_lines_in_any_order_read_or_refuse = FUZZ.real_lines_test()
test_mangled_lines_never_raise = FUZZ.mangled_lines_test()
test_random_text_never_raises = FUZZ.any_text_test()


def test_the_real_banners_are_read() -> None:
    # the strategies above draw from these; each is one of the reader's own cases
    assert read_webui(TEXTS[0]) is not None and read_webui(cases.COMFY) is not None


# (context, fragment, tail): the state a pattern runs in, its repeated piece, a failing end
ADVERSARIAL = [
    ("Total VRAM 1 MB, total RAM 1 MB\n", "Device: cuda:0 NVIDIA ", "x"),
    ("Total VRAM 1 MB, total RAM 1 MB\n", "Device: cuda:0 a : b ", "x"),
    ("Total VRAM 1 MB, total RAM 1 MB\nDevice: cuda:0 ", " : ", "x"),
    ("", "Total VRAM 1 MB, ", "x"),
    ("", "[a] ", "Total VRAM"),
    ("Total VRAM 1 MB, total RAM 1 MB\n", "pytorch version: 2.0.0", "x"),
]

test_a_long_adversarial_line_stays_in_bound = FUZZ.adversarial_test(ADVERSARIAL)
