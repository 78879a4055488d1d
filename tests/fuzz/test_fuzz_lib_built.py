"""A library's own words on what it was built for (envlock/pasted/libbuilt.py) on outside
input: random compositions of real messages' lines and mangled pieces end in Facts or one
FactsError line, never a traceback; every extension read names a distribution and what it
was built for (a CUDA major of 7 or more, a torch release, GPU code) that the text states;
adversarial 1 MB lines built from the patterns' fragments finish within the bound."""

from __future__ import annotations

import pytest
from hypothesis import strategies as st

from envlock.pasted.libbuilt import SPCONV_GPU, read_lib_built
from tests.fuzz import pastes
from tests.pasted import test_lib_built as cases
from tests.pasted.test_tool_reports import _report

pytestmark = pytest.mark.fuzz

TEXTS = [
    _report(name)
    for name in ("pytorch_sparse-86.txt", "Open3D-ML-430.txt", "spconv-724.txt", "pyg-6900.txt")
] + [
    cases.TV_MAJOR,
    cases.TV_MINOR,
    cases.TV_WRAPPED,
    cases.TA_MAJOR,
    cases.TEMPLATE,
    cases.NO_CUDA,
    cases.OPEN3D_GONE,
    cases.SPCONV_AMPERE,
    cases.PYG_PROPOSED,
    cases.PYG_NOT_FOUND,
    cases.PYG_SAME_MINOR,
]
LINES = pastes.lines_of(TEXTS)
PIECES = st.sampled_from(
    [
        "PyTorch has CUDA version 10.2 and ",
        " has CUDA Version=",
        "11.1",
        " whereas ",
        "Open3D needs PyTorch version 1.7.*, but version ",
        "your gpu arch (8, 6) isn't compiled in prebuilt, ",
        "available: {(7, 5), ",
        " -f https://data.pyg.org/whl/torch-1.13.0+cu117.html",
        "pip install torch_scatter ",
        "\n",
        "?",
        "I used to get ",
    ]
)


def _holds(text: str) -> None:
    reading = read_lib_built(text)
    if reading is None:
        return
    low = " ".join(text.lower().split())
    assert 0 < len(reading.extensions) <= 8 + 1  # PyG's at most eight, and one of the others
    for ext in reading.extensions:
        name = ext["distribution"]
        assert name and name not in ("torch", "extension")
        assert name.replace("-", "_") in low.replace("-", "_") or name in ("open3d", "spconv")
        assert ext.get("cuda_major") is None or 7 <= int(ext["cuda_major"] or 0) <= 99
        built = ext.get("built_for_torch")
        assert built is None or built.partition("+")[0] in low
    for index, name in reading.gpus.items():
        assert name == SPCONV_GPU and index == 0
    assert reading.notes


# (context, fragment, tail): the state a pattern runs in, its repeated piece, a failing end
ADVERSARIAL = [
    ("", "pytorch has cuda version ", "x"),
    ("", "PyTorch has CUDA version 10.2 and a has CUDA version ", "x"),
    ("", "open3d needs pytorch version ", "x"),
    ("", "open3d was built with cuda ", "x"),
    ("", "your gpu arch (", "x"),
    (
        "your gpu arch (8, 6) isn't compiled in prebuilt, may cause invalid device function. "
        "available: {",
        "(6, 1), ",
        "x",
    ),
    ("", "/whl/torch-", "x"),
    ("pip install torch_scatter ", "-f https://data.pyg.org/whl/torch-1.13.0+cu117.html ", "x"),
    ("", "pip install ", "-f /whl/torch-"),
    ("", "torch_scatter ", "-f https://data.pyg.org/whl/torch-1.13.0+cu117.html"),
]

FUZZ = pastes.ReaderFuzz((read_lib_built,), LINES, PIECES, holds=_holds)
test_real_lines_in_any_order_read_or_refuse = FUZZ.real_lines_test()
test_mangled_lines_never_raise = FUZZ.mangled_lines_test()
test_random_text_never_raises = FUZZ.any_text_test()
test_a_long_adversarial_line_stays_in_bound = FUZZ.adversarial_test(ADVERSARIAL)
