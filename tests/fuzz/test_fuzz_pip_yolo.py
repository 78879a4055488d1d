"""pip's own output (envlock/pasted/pipout.py), `yolo checks`' table (envlock/pasted/yolochecks.py)
and Ultralytics'/YOLOv5's device lines in their older forms (envlock/pasted/trainerenv.py) on
outside input: random compositions of their real lines and mangled pieces end in Facts or one
FactsError line, never a traceback; a torch version read is one a line of the text holds; a
torch read from pip's lines as a CPU build is an untagged one; adversarial 1 MB lines built
from their patterns' fragments finish within the bound."""

from __future__ import annotations

import pytest
from hypothesis import strategies as st

from envlock.pasted.pipout import read_pip_output
from envlock.pasted.toolenv import read_tools
from envlock.pasted.trainerenv import read_ultralytics
from envlock.pasted.yolochecks import read_yolo_checks
from tests.fuzz import pastes
from tests.pasted import test_yolo_banners as banners
from tests.pasted import test_yolo_checks as checks
from tests.pasted.test_pip_output import CE

pytestmark = pytest.mark.fuzz

READERS = (read_pip_output, read_yolo_checks, read_ultralytics)
TEXTS = [
    (CE / name).read_text()
    for name in (
        "Vonovox-14.txt",
        "ultralytics-17704.txt",
        "ultralytics-1495.txt",
        "yolov5-7639.txt",
        "ultralytics-19084.txt",
    )
]
TEXTS += [
    "Successfully installed torch-2.7.0+cu128 torchvision-0.22.0+cu128\n",
    "Looking in indexes: https://pypi.org/simple, https://download.pytorch.org/whl/cu121\n",
    "Using torch 1.7.0 CUDA:0 (Tesla V100-SXM2-16GB, 16130.5MB)\n",
    "YOLOv5 \u00f0\u0178\u0161\u20ac v6.1-174-g8c3a3c2 torch 1.11.0+cpu CPU\n",
    "Requirement already satisfied: torch>=2.0 in /opt/venv/lib/python3.11/site-packages "
    "(from -r requirements.txt (line 3)) (2.3.1+cu121)\n",
]
LINES = pastes.lines_of(TEXTS)
PIECES = st.sampled_from(
    [" (", ")", " in ", "c:\\", "\\envs\\", "+cu", "\u2705 ", ">=", "  ", "-", "\n", "CUDA:0 "]
)


def _holds(text: str) -> None:
    # a torch pip's lines show as a CPU build is an untagged one
    reading = read_pip_output(text)
    if reading and reading.fields.get("CUDA used to build PyTorch") == "None":
        assert "+" not in reading.fields["PyTorch version"]
    read_yolo_checks(text)
    read_ultralytics(text)
    read_tools(text)


def test_the_real_reports_are_read() -> None:
    # the strategies above draw from these; each is one of the readers' own cases
    assert read_pip_output(TEXTS[0]) is not None
    assert read_yolo_checks(checks._CHECKS_17704) is not None
    assert read_ultralytics(banners._TWO_RUNS) is not None


# (context, fragment, tail): the state a pattern runs in, its repeated piece, a failing end
ADVERSARIAL = [
    ("Requirement already satisfied: torch in ", "c:\\a ", "(x"),
    ("Requirement already satisfied: torch in c:\\x (from ", "a", " (2.5.1"),
    ("Requirement already satisfied: torch in c:\\x (from a (", "b", ") (2.5"),
    ("Successfully installed ", "torch-2.5.1 ", "x"),
    ("Successfully installed ", "a-", "1"),
    ("Looking in indexes: ", "https://download.pytorch.org/whl/cu1", "x"),
    ("torch               \u2705 ", "2.5.1", "x y"),
    ("torch ", "1.", ">=1 x"),
    ("OS                  ", "Windows-10", " x"),
    ("GPU                 ", "NVIDIA, ", "MiB x"),
    ("YOLOv5 ", "\u00f0", " v4.0 torch 1.7.1 x"),
    ("", "YOLOv5 v4.0-14 torch 1.7.1 ", "x"),
    ("", "Ultralytics ", "x"),
    ("Using torch 1.7.0 ", "CUDA:0 (", "x"),
]

FUZZ = pastes.ReaderFuzz(READERS, LINES, PIECES, holds=_holds)
test_real_lines_in_any_order_read_or_refuse = FUZZ.real_lines_test()
test_mangled_lines_never_raise = FUZZ.mangled_lines_test()
test_random_text_never_raises = FUZZ.any_text_test()
test_a_long_adversarial_line_stays_in_bound = FUZZ.adversarial_test(ADVERSARIAL)
