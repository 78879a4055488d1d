"""The readers of other tools' environment reports (envlock/pasted/toolenv.py: hfenv,
xformers_info, launchlog) on outside input: random compositions of their real lines and
mangled pieces end in Facts or one FactsError line, never a traceback; the facts they read
are the ones the lines say; adversarial 1 MB lines built from their patterns' fragments
finish within the bound (each pattern starts at a word or a literal, one pass a line).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from envlock.pasted.draft import Draft
from envlock.pasted.hfenv import read_env_list
from envlock.pasted.launchlog import read_launch_log
from envlock.pasted.toolenv import parse_tool_report
from envlock.pasted.xformers_info import read_xformers
from tests.fuzz import pastes
from tests.pasted.test_tool_reports import COMFYUI, XFORMERS_A100, XFORMERS_INFO, _report

pytestmark = pytest.mark.fuzz

REPORTS = [
    "lerobot-1317.txt",
    "lerobot-2105.txt",
    "lerobot-2363.txt",
    "lerobot-4093.txt",
    "EZ-CorridorKey-87.txt",
    "pytorch-160804.txt",
    "PIA-30.txt",
    "ComfyUI-SUPIR-35.txt",
    "sdnext-1424.txt",
    "unsloth-1998.txt",
]
# the real lines these readers read, and the pieces pastes mangle them with
LINES = pastes.lines_of(
    [*(_report(name) for name in REPORTS), XFORMERS_INFO, COMFYUI, XFORMERS_A100]
)
PIECES = st.sampled_from(
    ["- ", "**", "`", ": ", " (", ")", "+cu", "+cpu", "Torch ", "INFO ", "2.1.2", "1201", "\n"]
)


@pastes.PASTE
@given(lines=pastes.real_lines(LINES, 30))
def test_real_lines_in_any_order_read_or_refuse(lines: list[str]) -> None:
    pastes.read_or_refuse("\n".join(lines))


@pastes.PASTE
@given(lines=pastes.real_lines(LINES, pastes.MANGLED_LINES), cuts=pastes.cut_list(PIECES, 200))
def test_mangled_lines_never_raise(lines: list[str], cuts: list[tuple[int, int, str]]) -> None:
    text = pastes.mangle(lines, cuts)
    for reader in (read_env_list, read_xformers, read_launch_log):
        reader(text)
    pastes.checked(text)


@pastes.PASTE
@given(text=pastes.ANY_TEXT)
def test_random_text_never_raises(text: str) -> None:
    draft = Draft()
    parse_tool_report(text, draft, lambda t, d: 0)


# (context, fragment, tail): the state a pattern runs in, its repeated piece, a failing end
ADVERSARIAL = [
    ("- ", "**a", ": x"),
    ("- **", "a" * 7, "*"),
    ("- PyTorch version: ", "2.1.2", " (x"),
    ("- GPU: ", "NVIDIA (", "MiB"),
    ("- Driver: ", "570.181 ", "(Driver 5"),
    ("xFormers ", "pytorch.version: ", "1"),
    ("", "a.b.c.d.e", ": "),
    ("    PyTorch 2.1.2+cu121 with CUDA ", "1201 ", "(you have 2"),
    ("INFO     Torch ", "2.0.1", "+cpu x"),
    ("Torch detected GPU: ", "NVIDIA VRAM 1 Arch ", "("),
    ("   \\\\   /|    ", "NVIDIA. ", "Max memor"),
    ("O^O/ \\_/ \\    Torch: 2.5.1+cu124. CUDA: ", "6.1. ", "CUDA Toolkit"),
    ("Device: cuda:0 ", "NVIDIA : ", "x"),
    ("xFormers build.cuda_version: 1201 build.env.TORCH_CUDA_ARCH_LIST: ", "8.0+PTX ", "x"),
    ("pytorch version: ", "2.8.0", "+cu128 x"),
]


@pytest.mark.parametrize("case", ADVERSARIAL, ids=lambda c: repr(c[1])[:24])
def test_a_long_adversarial_line_stays_in_bound(case: tuple[str, str, str]) -> None:
    readers = (read_env_list, read_xformers, read_launch_log)
    pastes.assert_in_bound(readers, pastes.adversarial_line(case), repr(case))
