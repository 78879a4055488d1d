"""The readers of torch's own checks quoted beside a launcher's or a trainer's torch line
(envlock/pasted/torch_warnings.py's cuDNN check and build-root reading, launchlog.py's glued
log lines, trainerenv.py's old YOLOv5 banner, signals.py's PyPI default build) on outside
input: random compositions and mangled copies of their real lines end in Facts or one
FactsError line, never a traceback; adversarial 1 MB lines built from their patterns'
fragments finish within the bound."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from envlock.pasted.draft import Draft
from envlock.pasted.launchlog import read_launch_log
from envlock.pasted.torch_warnings import torch_warnings
from envlock.pasted.trainerenv import read_ultralytics
from tests.fuzz import pastes
from tests.pasted import test_torch_own_checks as own

pytestmark = pytest.mark.fuzz

TEXTS = [
    (own.CE / "kohya_ss-1096.txt").read_text(),
    (own.CE / "yolov5-2389.txt").read_text(),
    own.CUDNN_NEW,
    own.CUDNN_OLD,
    own.WARNING_AT.format(root="/pytorch"),
    own.WARNING_AT.format(root="/opt/conda/conda-bld/pytorch_1607370117127/work"),
    "YOLOv5 v4.0-14-gb75c432 torch 1.7.1+cu110 CUDA:0 (Tesla T4, 15079MB)\n",
    "YOLOv5 2021-3-26 torch 1.8.0 CPU\n",
]
LINES = pastes.lines_of(TEXTS)
PIECES = st.sampled_from(
    ["  ", "\t", "(", ")", ", ", "+cu", "/pytorch/", "17:22:50-122539 INFO ", "torch ", "\n"]
)


def _one_line(line: str) -> None:
    torch_warnings(line, Draft())


@pastes.PASTE
@given(lines=pastes.real_lines(LINES, 20))
def test_real_lines_in_any_order_read_or_refuse(lines: list[str]) -> None:
    text = "\n".join(lines)
    facts = pastes.read_or_refuse(text)
    live = facts.torch.live if facts is not None else None
    if live is not None and live.cudnn_version is not None:
        assert "cuDNN version incompatibility" in text


@pastes.PASTE
@given(lines=pastes.real_lines(LINES, pastes.MANGLED_LINES), cuts=pastes.cut_list(PIECES, 300))
def test_mangled_lines_never_raise(lines: list[str], cuts: list[tuple[int, int, str]]) -> None:
    text = pastes.mangle(lines, cuts)
    read_launch_log(text)
    read_ultralytics(text)
    for line in lines:
        _one_line(line)
    pastes.checked(text)


# (context, fragment, tail): the state a pattern runs in, its repeated piece, a failing end
ADVERSARIAL = [
    ("", " 17:22:50-122539 ", "INF"),
    ("INFO Torch 2.0.1 ", "  17:22:50-122539 INFO", "x"),
    ("", "cuDNN version incompatibility: PyTorch was compiled ", "x"),
    ("cuDNN version incompatibility: PyTorch was compiled against (8, 7, 0) ", "but ", "x"),
    ("", "Triggered internally at ", "/pytorc"),
    ("", "Triggered internally at  /pytorch/c10/", "x"),
    ("", "YOLOv5 v4.0 torch ", "1.7"),
    ("YOLOv5 v4.0-14-gb75c432 torch 1.7.1 CUDA:0 (", "Tesla T4, ", "MB"),
    ("YOLOv5 ", "v4.0-14-", " torch 1"),
]


@pytest.mark.parametrize("case", ADVERSARIAL, ids=lambda c: repr(c[1])[:24])
def test_a_long_adversarial_line_stays_in_bound(case: tuple[str, str, str]) -> None:
    pastes.assert_in_bound(
        (read_launch_log, read_ultralytics, _one_line), pastes.adversarial_line(case), repr(case)
    )
