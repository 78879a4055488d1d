"""The reader of Triton's GPU refusals (envlock/pasted/tritonmsg.py) on outside input: random
compositions of real refusals (torch's inductor, Triton's fp8), collect_env lines and prose,
mangled, end in Facts or one FactsError line, never a traceback; a GPU the reader reads is one
the text names, with a capability below Triton's floor where it states one; adversarial 1 MB
lines built from its literals and patterns finish within the bound (tests/fuzz/pastes.py's
harness, CPU-bounded per example)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from envlock.matrix import Version
from envlock.pasted.tritonmsg import read_triton_refusals
from tests.checks import test_triton_arch as cases
from tests.fuzz import pastes

pytestmark = pytest.mark.fuzz

LINES = pastes.lines_of(
    [
        *((cases.CE / name).read_text() for name in ("nanoGPT-326.txt", "textgen-5665.txt")),
        cases.ML_CE_41,
        cases.CHATTTS_341,
        cases.VLLM_P100,
        cases.GTX_960_WRAPPED,
        cases.ELIDED,
        cases.GONE,
        cases.OLD_PC,
        cases.A100_QUOTING,
        cases.VLLM_18182,
        cases.VLLM_12581,
        cases.RADEON,
    ]
)
_TOO_OLD = "which is too old to be supported by the triton GPU compiler"
_FLOOR = "Triton only supports devices of CUDA Capability >= 7.0"
PIECES = st.sampled_from(
    [
        "Found ",
        _TOO_OLD,
        ", which is used as the backend. ",
        _FLOOR,
        ", but your device is of CUDA capability ",
        "6.1",
        "{device_props.name}",
        "torch._dynamo.convert_frame: [WARNING] ",
        "type fp8e4nv not supported in this architecture. The supported fp8 dtypes are ",
        "('fp8e4b15', 'fp8e5')",
        "went away",
        "\u2019",
        "\n",
        " ",
    ]
)


def _holds(text: str) -> None:
    reading = read_triton_refusals(text)
    if reading is None:
        return
    flat = " ".join(text.lower().replace("\u2019", "'").split())  # as the reader reads it
    squeezed = "".join(flat.split())
    for index, name in reading.gpus.items():
        assert "".join(name.lower().split()) in squeezed, name
        capability = reading.capabilities.get(index)
        if capability is not None:
            assert Version.parse(capability) < Version((10, 0)), capability
    assert reading.notes


@pastes.PASTE
@given(lines=pastes.real_lines(LINES, 30))
def test_real_lines_in_any_order_read_or_refuse(lines: list[str]) -> None:
    text = "\n".join(lines)
    _holds(text)
    pastes.read_or_refuse(text)


@pastes.PASTE
@given(
    lines=pastes.real_lines(LINES, pastes.MANGLED_LINES),
    cuts=pastes.cut_list(PIECES, 200),
)
def test_mangled_lines_never_raise(lines: list[str], cuts: list[tuple[int, int, str]]) -> None:
    text = pastes.mangle(lines, cuts)
    _holds(text)
    pastes.checked(text)


@pastes.PASTE
@given(text=pastes.ANY_TEXT)
def test_random_text_never_raises(text: str) -> None:
    _holds(text)
    pastes.checked(text)


# (context, fragment, tail): the state a pattern runs in, its repeated piece, a failing end
ADVERSARIAL = [
    ("", "Found " + _TOO_OLD + " ", "x"),
    ("Found ", "a ", _TOO_OLD),
    (_TOO_OLD + " ", "but your device is of CUDA capability ", "x"),
    ("", _FLOOR + ", ", "x"),
    (_FLOOR + ", ", "but your device is of ", "6.1"),
    ("", "type fp8e4nv not supported in this architecture. ", "x"),
    (
        "type fp8e4nv not supported in this architecture. The supported fp8 dtypes are (",
        "'fp8e5', ",
        "x",
    ),
    ("", "fp8e4nv data type is not supported on CUDA arch < 89 ", "x"),
    ("On my old PC ", "found ", _TOO_OLD),
    ("", "\u2019 \t\n", "x"),
    ("", "torch._dynamo.convert_frame: [WARNING] ", _TOO_OLD),
]


@pytest.mark.parametrize("case", ADVERSARIAL, ids=lambda c: repr(c[1])[:24])
def test_a_long_adversarial_line_stays_in_bound(case: tuple[str, str, str]) -> None:
    pastes.assert_in_bound((read_triton_refusals,), pastes.adversarial_line(case), repr(case))
