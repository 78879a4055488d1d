"""Ultralytics' and YOLOv5's device line read as the facts it states, in its forms since 2020
(envlock/pasted/trainerenv.py): several in one paste name the environment as it is now in the
last one. Each case is a report's real text (the corpus file named) or the tool's source
format (ultralytics/yolov5 utils/torch_utils.py select_device across its history); beside
each, the lookalike that must not give the finding."""

from __future__ import annotations

from pathlib import Path

import pytest

from envlock.pasted import facts_from_texts
from envlock.pasted.trainerenv import read_ultralytics
from tests.pasted.test_tool_reports import _errors, _top

CE = Path(__file__).resolve().parent.parent / "fixtures" / "collect_env"


# ------------------------------------------------------------ device lines
# ultralytics#1495: the older working run's line above today's (same Windows 10 machine)
_TWO_RUNS = (CE / "ultralytics-1495.txt").read_text()


def test_the_last_of_two_device_lines_is_the_environment_now() -> None:
    torch = facts_from_texts(collect_env=_TWO_RUNS).torch
    assert torch.version == "2.0.0+cpu" and torch.cuda is None
    assert _top(_TWO_RUNS) == "EL-TORCH-CPU-ONLY"


def test_the_earlier_environment_gives_no_devices_to_the_later_one() -> None:
    reading = read_ultralytics(_TWO_RUNS)
    assert reading is not None and reading.gpus == {}
    assert "Is CUDA available" not in reading.fields
    # reversed (today's run is the CUDA one): its torch and GPU are read, no finding
    first, second = _TWO_RUNS.splitlines()[:2]
    now = read_ultralytics(f"{second}\n{first}\n")
    assert now is not None and now.fields["PyTorch version"] == "1.8.1+cu111"
    assert now.gpus == {0: "NVIDIA GeForce RTX 3070"}
    assert _errors(f"{second}\n{first}\n") == []


# yolov5#7639: YOLOv5's 2022 line quoted inline, the emoji dropped (two blanks left)
_YOLOV5_2022 = (CE / "yolov5-7639.txt").read_text()


def test_yolov5_2022_line_without_its_emoji_reads_a_cpu_build() -> None:
    assert "`YOLOv5  2022-4-22 torch 1.11.0+cpu CPU`" in _YOLOV5_2022
    assert facts_from_texts(collect_env=_YOLOV5_2022).torch.version == "1.11.0+cpu"
    # the GPU is named only in prose: no GPU fact, so a warning, not an error
    assert _top(_YOLOV5_2022) == "EL-TORCH-CPU-ONLY"
    assert _errors(_YOLOV5_2022) == []


@pytest.mark.parametrize(
    "line",
    [
        "YOLOv5 \U0001f680 2022-4-22 torch 1.11.0+cpu CPU",  # select_device since 2021-03
        "YOLOv5 \u00f0\u0178\u0161\u20ac v6.1-174-g8c3a3c2 torch 1.11.0+cpu CPU",  # bytes as cp1252
        "YOLOv5 v4.0-14-gb75c432 torch 1.11.0+cpu CPU",  # 2021-01, before the emoji
        "YOLOv5 \U0001f680 b75c432 torch 1.11.0+cpu CPU",  # a clone without tags
        "Using torch 1.11.0+cpu CPU",  # late 2020
    ],
)
def test_yolov5_older_lines_read_torch(line: str) -> None:
    reading = read_ultralytics(line + "\n")
    assert reading is not None and reading.fields["PyTorch version"] == "1.11.0+cpu"


def test_using_torch_lines_one_a_device_are_one_environment() -> None:
    # 2020-12 (c0ffcdf): one 'Using torch' line a device, memory in MB with a fraction
    text = (
        "Using torch 1.7.0 CUDA:0 (Tesla V100-SXM2-16GB, 16130.5MB)\n"
        "Using torch 1.7.0 CUDA:1 (Tesla V100-SXM2-16GB, 16130.5MB)\n"
    )
    reading = read_ultralytics(text)
    assert reading is not None and reading.gpus == {
        0: "Tesla V100-SXM2-16GB",
        1: "Tesla V100-SXM2-16GB",
    }
    # prose that names torch is no device line
    assert read_ultralytics("Using torch 1.7.0 CPU build on my laptop works\n") is None
