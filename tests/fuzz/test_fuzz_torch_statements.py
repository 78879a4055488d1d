"""torch's own statements read where the paste names no torch version (envlock/pasted/
torch_warnings.py's notes: no driver, the compiled cuDNN, no kernels of the GPU's major;
libmessages.py's 'Torch not compiled with CUDA enabled'), judged by checks/driver.py via
pasted/driverneed.py, checks/libraries.py, checks/cpubuild.py and checks/archsaid.py, on
outside input: random compositions and mangled copies of their real lines end in Facts or one
FactsError line, never a traceback, and a finding from torch's word is one the text states;
adversarial 1 MB lines built from the patterns' fragments finish within the bound."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from envlock.checks import run_checks
from envlock.pasted.draft import Draft
from envlock.pasted.layout import undo_layout
from envlock.pasted.libmessages import read_lib_messages
from envlock.pasted.torch_warnings import torch_warnings
from tests.fuzz import pastes
from tests.pasted import test_torch_statements as said

pytestmark = pytest.mark.fuzz

REPORTS = [
    "AF-SfMLearner-39.txt",
    "Bringing-Old-Photos-Back-to-Life-32.txt",
    "whisperX-983.txt",
    "MiniGPT-4-50.txt",
    "gladia-928.txt",
    "bark-46.txt",
    "mmdetection-9876.txt",
    "Retrieval-based-Voice-Conversion-WebUI-2486.txt",
    "InvokeAI-9532.txt",
]
LINES = pastes.lines_of(
    [
        *(said._report(name) for name in REPORTS),
        said.NO_DRIVER_NEW,
        said.NO_DRIVER_OLD,
        said.CC_WARNING,
        "PyTorch version: 2.1.0+cu121\nNvidia driver version: 535.54.03\n",
        "GPU models and configuration: GPU 0: NVIDIA GeForce RTX 3090\n",
        "OS: macOS 14.2.1 (arm64)\n",
    ]
)
PIECES = st.sampled_from(
    [
        "Found no NVIDIA driver on your system",
        "Torch not compiled with CUDA enabled",
        "cuDNN version incompatibility: PyTorch was compiled",
        "  against (8, 5, 0) but found runtime version (8, 4, 1)",
        " with CUDA capability sm_",
        "86 is not compatible",
        " which is of compute capability (CC) ",
        "- 8.6 which supports hardware CC ",
        "`",
        "'",
        "RuntimeError: ",
        "\n",
    ]
)


def _one_line(line: str) -> None:
    torch_warnings(line, Draft())


def _stated_only_where_said(text: str) -> None:
    """A finding resting on torch's word alone quotes what the text holds (as the layout
    step gives it to the readers: a hard wrap inside torch's words is joined first)."""
    facts = pastes.read_or_refuse(text)
    if facts is None:
        return
    text = f"{text}\n{undo_layout(text).text}"
    for f in run_checks(facts):
        if f.check_id == "EL-NO-DRIVER" and f.evidence.get("torch_said"):
            assert "Found no NVIDIA driver on your system" in text
        if f.check_id == "EL-TORCH-CPU-ONLY" and f.evidence.get("torch_said"):
            assert "Torch not compiled with CUDA enabled" in text
        compiled = f.evidence.get("cudnn_compiled (torch's message)")
        if f.check_id == "EL-CUDNN-INCOMPATIBLE" and compiled:
            assert "(" + ", ".join(str(compiled).split(".")) + ")" in text


@pastes.PASTE
@given(lines=pastes.real_lines(LINES, 20))
def test_real_lines_in_any_order_read_or_refuse(lines: list[str]) -> None:
    _stated_only_where_said("\n".join(lines))


@pastes.PASTE
@given(lines=pastes.real_lines(LINES, pastes.MANGLED_LINES), cuts=pastes.cut_list(PIECES, 300))
def test_mangled_lines_never_raise(lines: list[str], cuts: list[tuple[int, int, str]]) -> None:
    text = pastes.mangle(lines, cuts)
    read_lib_messages(text)
    for line in lines:
        _one_line(line)
    _stated_only_where_said(text)


# (context, fragment, tail): the state a pattern runs in, its repeated piece, a failing end
ADVERSARIAL = [
    ("", "cuDNN version incompatibility: PyTorch was compiled  against (8, 5, 0) ", "x"),
    ("cuDNN version incompatibility: PyTorch was compiled", " against", " (8, 5"),
    ("", "Found no NVIDIA driver on your system", "x"),
    ("", " with CUDA capability sm_12", "0 is"),
    ("", "Torch not compiled with CUDA enabled ", "+cu"),
    ("Found GPU0 ", "NVIDIA GeForce ", " which is of compute capability (CC) x"),
    ("", "- 8.6 which supports hardware CC ", "x"),
]


@pytest.mark.parametrize("case", ADVERSARIAL, ids=lambda c: repr(c[1])[:24])
def test_a_long_adversarial_line_stays_in_bound(case: tuple[str, str, str]) -> None:
    pastes.assert_in_bound(
        (read_lib_messages, _one_line), pastes.adversarial_line(case), repr(case)
    )
