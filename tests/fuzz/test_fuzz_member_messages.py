"""The readers of an extension's or a family member's own failure message (envlock/pasted/
dscheck.py: DeepSpeed's runtime check; dsreport.py's prebuilt ops; dispatcher.py: torch's
dispatcher refusing a member's operator on CUDA) on outside input: random compositions and
mangled copies of their real lines end in Facts or one FactsError line, never a traceback;
a member is said to lack CUDA only where a refusal on CUDA is in the text; adversarial 1 MB
lines built from their patterns' fragments finish within the bound."""

from __future__ import annotations

import pytest
from hypothesis import strategies as st

from envlock.facts import Facts
from envlock.pasted.dispatcher import members_without_cuda, read_dispatcher
from envlock.pasted.dscheck import read_ds_check
from envlock.pasted.dsreport import read_ds_report
from tests.fuzz import pastes
from tests.pasted import test_member_messages as own
from tests.pasted.test_tool_reports import CE

pytestmark = pytest.mark.fuzz

READERS = (read_ds_check, read_ds_report, read_dispatcher)
TEXTS = [
    (CE / "alltalk_tts-111.txt").read_text(),
    (CE / "ComfyUI-SAM3-59.txt").read_text(),
    own.DS_6465,
    own.DS_OLD,
    own._cuda_check("11.8", "12.1"),
    own._ds_report("[YES]", "torch 2.1, cuda 12.1"),
    own.TORCH_113 + own.REFUSED.format(op="torchvision::nms", backends=own.NMS_KEYS),
    own.REFUSED.format(op="torchaudio::rnnt_loss", backends="CPU, Meta, BackendSelect"),
]
LINES = pastes.lines_of(TEXTS)
PIECES = st.sampled_from(
    ["  ", "\t", "'", "::", ", ", "[", "]", "=", "version=", "CUDA, ", " .... ", "[YES]", "\n"]
)


def _holds_facts(facts: Facts, text: str) -> None:
    for member in members_without_cuda(list(facts.meta.notes)):
        assert f"Could not run '{member}::" in text
    for ext in facts.extensions.items:
        assert ext.built_for_torch is None or ext.built_for_torch in text


# (context, fragment, tail): the state a pattern runs in, its repeated piece, a failing end
ADVERSARIAL = [
    (
        "version mismatch! DeepSpeed ops were compiled and installed ",
        "Install torch version=2.1,",
        "x",
    ),
    ("version mismatch! DeepSpeed ops were compiled and installed ", "version=", "1"),
    ("DeepSpeed install versions: ", "torch=1.7, cuda=11.0, ", "runtime"),
    (
        "Could not run 'torchvision::nms' with arguments from the 'CUDA' backend. ",
        "'torchvision::",
        "x",
    ),
    ("'torchvision::nms' is only available for these backends: [", "CPU, ", "x"),
    ("Could not run '", "torchvision::nms' ", "x"),
    ("", "cpu_adam ....... ", "[YE"),
    ("deepspeed wheel compiled w. ", ".", " torch 2"),
]


def _line(case: pastes.Case) -> str:
    # the report heading ds_report's reader needs, and a refusal the dispatcher's needs
    return "DeepSpeed general environment info:\nCould not run '\n" + pastes.adversarial_line(case)


FUZZ = pastes.ReaderFuzz(READERS, LINES, PIECES, most=20, reach=400, holds_facts=_holds_facts)
test_real_lines_in_any_order_read_or_refuse = FUZZ.real_lines_test()
test_mangled_lines_never_raise = FUZZ.mangled_lines_test()
test_any_text_never_raises = FUZZ.any_text_test()
test_a_long_adversarial_line_stays_in_bound = FUZZ.adversarial_test(ADVERSARIAL, _line)
