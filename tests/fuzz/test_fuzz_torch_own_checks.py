"""The readers of torch's own checks quoted beside a launcher's or a trainer's torch line
(envlock/pasted/torch_warnings.py's cuDNN check and build-root reading, launchlog.py's glued
log lines, trainerenv.py's old YOLOv5 banner, signals.py's PyPI default build) on outside
input: random compositions and mangled copies of their real lines end in Facts or one
FactsError line, never a traceback; adversarial 1 MB lines built from their patterns'
fragments finish within the bound."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envlock.checks import run_checks
from envlock.errors import FactsError
from envlock.pasted import facts_from_texts
from envlock.pasted.draft import Draft
from envlock.pasted.launchlog import read_launch_log
from envlock.pasted.torch_warnings import torch_warnings
from envlock.pasted.trainerenv import read_ultralytics
from tests.fuzz.test_fuzz import EXAMPLES, FUZZ
from tests.fuzz.test_pasted_adversarial import BOUND_S, MB, line_of, seconds
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
LINES = sorted({line for text in TEXTS for line in text.split("\n") if line.strip()})
PIECES = st.sampled_from(
    ["  ", "\t", "(", ")", ", ", "+cu", "/pytorch/", "17:22:50-122539 INFO ", "torch ", "\n"]
)


def _one_line(line: str) -> None:
    torch_warnings(line, Draft())


@settings(FUZZ, deadline=None, max_examples=max(10, EXAMPLES // 3))
@given(lines=st.lists(st.sampled_from(LINES), min_size=1, max_size=20))
def test_real_lines_in_any_order_read_or_refuse(lines: list[str]) -> None:
    text = "\n".join(lines)
    try:
        facts = facts_from_texts(collect_env=text)
    except FactsError as e:
        assert "\n" not in str(e)
        return
    run_checks(facts)
    if facts.torch.version is not None:
        assert facts.torch.version in text
    live = facts.torch.live
    if live is not None and live.cudnn_version is not None:
        assert "cuDNN version incompatibility" in text


@settings(FUZZ, deadline=None, max_examples=max(10, EXAMPLES // 3))
@given(
    lines=st.lists(st.sampled_from(LINES), min_size=1, max_size=12),
    cuts=st.lists(st.tuples(st.integers(0, 11), st.integers(0, 300), PIECES), max_size=12),
)
def test_mangled_lines_never_raise(lines: list[str], cuts: list[tuple[int, int, str]]) -> None:
    for index, at, piece in cuts:
        i = index % len(lines)
        lines[i] = lines[i][:at] + piece + lines[i][at:]
    text = "\n".join(lines)
    read_launch_log(text)
    read_ultralytics(text)
    for line in lines:
        _one_line(line)
    with contextlib.suppress(FactsError):
        run_checks(facts_from_texts(collect_env=text))


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
    line = line_of(*case, MB)
    for reader in (read_launch_log, read_ultralytics, _one_line):
        took = seconds(lambda r=reader: r(line), f"{reader.__name__} on {case!r}")  # type: ignore[misc]
        assert took < BOUND_S, (reader.__name__, took)
