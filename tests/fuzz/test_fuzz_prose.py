"""The reader of facts written in the reporter's own words (envlock/pasted/prose.py) on outside
input: random compositions of real prose, hand-written lists and the sentences it must leave
alone, mangled, end in Facts or one FactsError line, never a traceback; a version it reads is
one the text holds after a torch word, a family member's one beside a torch version, a GPU one
the GPU table names; adversarial 1 MB lines built from its patterns' fragments finish within
the bound (tests/fuzz/pastes.py's harness, CPU-bounded per example)."""

from __future__ import annotations

import pytest
from hypothesis import strategies as st

from envlock.matrix import load_matrix
from envlock.pasted.prose import read_prose
from tests.fuzz import pastes
from tests.pasted import test_prose as cases

pytestmark = pytest.mark.fuzz

REPORTS = [
    "textgen-369.txt",
    "ultralytics-227.txt",
    "MiniGPT-4-50.txt",
    "F5-TTS-404.txt",
    "ultralytics-15898.txt",
    "Vonovox-14.txt",
    "GPT-SoVITS-1048.txt",
    "walk-these-ways-72.txt",
    "chatterbox-95.txt",
    "flash-attention-443.txt",
    "TTS-3313.txt",
    "flash-attention-950.txt",
]
LINES = pastes.lines_of(
    [
        *((cases.CE / name).read_text() for name in REPORTS),
        cases.TEXTGEN,
        cases.NOTE,
        "Should I use torch 2.0.0+cpu with my RTX 3060 Ti?",
        "I will install torch 2.1.0+cu121",
        "pip install torch==2.0.0+cpu --index-url https://download.pytorch.org/whl/cpu",
        "PyTorch 2.1.2+cu121 with CUDA 1201 (you have 2.1.2+cpu)",
        "CUDA used to build PyTorch: 12.8",
        'pytorch is installed using "pip3 install torch==1.10.0+cu113 torchvision==0.11.1+cu113"',
        "GPU 0: NVIDIA GeForce RTX 4090",
        "Torch not compiled with CUDA enabled",
        "我的显卡是 NVIDIA GeForce RTX 3060 Ti\uff0ctorch 版本是 2.0.0+cpu",
        "- torchvision: 0.15.2",
        "torchvision==0.16.0",
        "* torchvision 0.17",
        "- torchaudio: 2.0.1+cu118",
    ]
)
PIECES = st.sampled_from(
    [
        "torch",
        "pytorch ",
        " version ",
        "2.0.0",
        "+cpu",
        "+cu118",
        "RTX ",
        "3060",
        " Ti",
        "nvidia ",
        "?",
        ". ",
        "\n",
        " will ",
        "==",
        "://",
        "torchvision",
        "torchaudio-",
    ]
)


def _holds(text: str) -> None:
    reading = read_prose(text)
    if reading is None:
        return
    version = reading.fields.get("PyTorch version")
    if version is not None:
        assert version in text and "torch" in text.lower()
    for name, member in reading.packages.items():
        assert version is not None and member in text and name in text.lower()
    for name in reading.gpus.values():
        assert load_matrix().gpu_by_name(name) is not None
    assert reading.notes


# (context, fragment, tail): the state a pattern runs in, its repeated piece, a failing end
ADVERSARIAL = [
    ("", "torch ", "x"),
    ("", "torch. ", "x"),
    ("", "torch\n", "x"),
    ("", "pytorch version ", "2"),
    ("torch", " a", "2.0.0+cpu"),
    ("", "rtx ", "x"),
    ("", "nvidia. ", "x"),
    ("", "geforce rtx 3060. ", "x"),
    ("", "a://", "x"),
    ("", "2.0.0+cpu ", "x"),
    ("", "torch 2.0.0+cpu. ", "x"),
    ("", "torch was installed with '", "x"),
    ("torch is installed using ", "'pip install torch==2.0.0+cpu' ", "x"),
    ("torch 2.0.0\n", "torchvision ", "x"),
    ("torch 2.0.0\n", "torchaudio-0.1", "5"),
]

FUZZ = pastes.ReaderFuzz((read_prose,), LINES, PIECES, holds=_holds)
test_real_lines_in_any_order_read_or_refuse = FUZZ.real_lines_test()
test_mangled_lines_never_raise = FUZZ.mangled_lines_test()
test_random_text_never_raises = FUZZ.any_text_test()
test_a_long_adversarial_line_stays_in_bound = FUZZ.adversarial_test(ADVERSARIAL)
