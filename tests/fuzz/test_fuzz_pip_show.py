"""`pip show` blocks (envlock/pasted/pipshow.py, read through envlock/pasted/pipout.py) on
outside input: random compositions of real blocks' lines and mangled pieces end in Facts or
one FactsError line, never a traceback; a version read is one a 'Version:' line of the text
holds; a CUDA read from Requires is the CUDA major its NVIDIA wheels name; adversarial 1 MB
lines built from the patterns' fragments finish within the bound."""

from __future__ import annotations

import re

import pytest
from hypothesis import strategies as st

from envlock.pasted.pipout import read_pip_output
from envlock.pasted.pipshow import read_show
from tests.fuzz import pastes
from tests.pasted import test_pip_show as cases
from tests.pasted.test_tool_reports import _report

pytestmark = pytest.mark.fuzz

TEXTS = [
    _report("sdnext-3531.txt"),
    _report("exllamav2-319.txt"),
    cases.CENTERTRACK,
    cases.HPC,
    cases.UV,
    cases.ROCM,
    cases.USER_SITE,
    "---",
]
LINES = pastes.lines_of(TEXTS)
PIECES = st.sampled_from(
    ["Name: ", "Version: ", "\n", "---", "+cu121", "nvidia-cublas-cu", "11", ", ", "c:\\", "  "]
)


def _holds(text: str) -> None:
    shown = read_show(text)
    for block in shown.values():
        assert f"Version: {block.version}" in text or f"Version:{block.version}" in text
    reading = read_pip_output(text)
    if reading is None:
        return
    cuda = reading.fields.get("CUDA used to build PyTorch")
    torch = reading.fields.get("PyTorch version", "")
    if cuda not in (None, "None", "N/A") and "+" not in torch:
        # an untagged torch's CUDA is the major its NVIDIA wheels name
        assert re.search(rf"nvidia-[a-z0-9-]+-cu{str(cuda).split('.')[0]}\b", text), cuda


FUZZ = pastes.ReaderFuzz((read_pip_output, read_show), LINES, PIECES, holds=_holds)
test_real_lines_in_any_order_read_or_refuse = FUZZ.real_lines_test()
test_mangled_lines_never_raise = FUZZ.mangled_lines_test()
test_random_text_never_raises = FUZZ.any_text_test()


def test_the_real_blocks_are_read() -> None:
    # the strategies above draw from these; each is one of the reader's own cases
    assert read_show(cases.CENTERTRACK).keys() == {"torch", "torchvision"}
    assert read_pip_output(cases.HPC) is not None


# (context, fragment, tail): the state a pattern runs in, its repeated piece, a failing end
ADVERSARIAL = [
    ("", "Name: torch\n", "x"),
    ("", "Name: torch\nVersion: 2.0.1\n", "x"),
    ("Name: torch\nVersion: 2.0.1\n", "Requires: nvidia-cublas-cu11, ", "x"),
    ("Name: torch\nVersion: 2.0.1\nRequires: ", " ", "x"),
    ("Name: torch\nVersion: 2.0.1\n", "Location: c:\\a ", "x"),
    ("", "Name: ", "x"),
    ("", "Version: ", "x"),
]

test_a_long_adversarial_line_stays_in_bound = FUZZ.adversarial_test(ADVERSARIAL)
