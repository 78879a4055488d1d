"""The readers of session 9's other-tool printouts (envlock/pasted/webui.py, dsreport.py,
trainerenv.py, bnbdiag.py, launchlog.py's ComfyUI System Information) on outside input: random
compositions of their real lines and mangled pieces end in Facts or one FactsError line,
never a traceback; a torch version read is one a line of the text holds; adversarial 1 MB
lines built from their patterns' fragments finish within the bound."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from envlock.pasted.bnbdiag import read_bnb_diagnostics
from envlock.pasted.dsreport import read_ds_report
from envlock.pasted.launchlog import read_launch_log
from envlock.pasted.toolenv import read_tools
from envlock.pasted.trainerenv import read_lightning, read_ultralytics
from envlock.pasted.webui import read_webui
from tests.fuzz import pastes
from tests.pasted import test_framework_reports as reports
from tests.pasted import test_launch_log_reports as logs

pytestmark = pytest.mark.fuzz

READERS = (
    read_webui,
    read_ds_report,
    read_ultralytics,
    read_lightning,
    read_launch_log,
    read_bnb_diagnostics,
)
TEXTS = [
    reports.WEBUI_FOOTER_LINES,
    reports.WEBUI_FOOTER,
    reports.WEBUI_VERSION_CHECK,
    reports._sysinfo(reports.TORCH_ENV),
    reports.DS_REPORT,
    reports.DS_PROSE,
    reports.YOLO_5090,
    reports.YOLO_4080,
    reports.YOLO_CHECKS,
    reports.LIGHTNING,
    reports.LIGHTNING_K80,
    reports.BANNER,
    logs.COMFY_SYSTEM,
    reports.BNB_GPU,
    reports.BNB_CPU,
    logs._system_stats("2.6.0+cu126", "cuda:0 NVIDIA GeForce RTX 4090 : cudaMallocAsync", "cuda"),
]
TEXTS += [
    (logs.CE / name).read_text()
    for name in ("sd-webui-15137.txt", "ComfyUI-5511.txt", "sdnext-3476.txt", "sd-scripts-1597.txt")
]
LINES = pastes.lines_of(TEXTS)
PIECES = st.sampled_from(
    ["- ", "* ", "\t", ": ", " (", ")", "+cu", " .... ", "\u2022", '"', "{", "}", "CUDA:0 ", "\n"]
)


def _holds(text: str) -> None:
    for reader in READERS:
        reader(text)
    read_tools(text)


@pastes.PASTE
@given(
    value=st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=40),
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=20), inner, max_size=4)
        ),
        max_leaves=20,
    )
)
def test_any_json_as_torch_env_info_never_raises(value: object) -> None:
    reading = read_webui(reports._sysinfo(value))
    assert reading is None or "PyTorch version" in reading.fields


# (context, fragment, tail): the state a pattern runs in, its repeated piece, a failing end
ADVERSARIAL = [
    ("version: ", "v1.5", "python"),
    ("torch: 2.1.2 ", "gradio:", "x"),
    ("", "python: 3.10.9", "torch:"),
    ("You are running torch ", "2.1.", "x"),
    ("torch version ", ".", " 2"),
    ("", "torch version .. ", "x"),
    ("Ultralytics ", "YOLOv8 ", "Python-3"),
    ("Ultralytics 8.1.0 Python-3.10.12 torch-2.1.0 CUDA:0 (", "NVIDIA, ", "MiB"),
    ("\t- ", "a", ":"),
    ("", "x - available: ", "True"),
    ("- **Name:** cuda:0 ", "NVIDIA : ", "x"),
    ('{"Torch env info": ', "[", "]"),
    ('"Torch env info": {"a": ', "[", "]" * 4000),
    ("", "=", " bitsandbytes v0.46.0 x"),
    ('"Torch env info": {\n', '"os": "a\\\\', '"'),
    ('"Torch env info": {\n"a": "', "\\\\", "x"),
    ("[2024-11-06 23:40:40", ".8", "] pytorch version: 2"),
    ("Could not load torch: [WinError 126] ", "Error loadin", "g"),
    ("System packages: {'torch': '", "2.4", "x"),
    ('"comfyui_version": 1, "name": "cuda:0 ', "NVIDIA : ", '"pytorch_version": "2'),
    ('"embedded_python": 1, "pytorch_version": "', "2.6", "x"),
    ("=== bitsandbytes v0.46.0 ===\n  CUDA: ", "12.", "x"),
]


def _line(case: pastes.Case) -> str:
    line = pastes.adversarial_line(case)
    if case[2].startswith("]"):  # the nesting closed: deeper than json's recursion limit
        line += "]" * line.count("[") + "}"
    return line


FUZZ = pastes.ReaderFuzz(READERS, LINES, PIECES, holds=_holds)
test_real_lines_in_any_order_read_or_refuse = FUZZ.real_lines_test()
test_mangled_lines_never_raise = FUZZ.mangled_lines_test()
test_random_text_never_raises = FUZZ.any_text_test()
test_a_long_adversarial_line_stays_in_bound = FUZZ.adversarial_test(ADVERSARIAL, _line)
