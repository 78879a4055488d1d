"""An extension's undefined torch symbol (envlock/pasted/extsymbol.py) on outside input:
random compositions of real loader messages' lines and mangled pieces end in Facts or one
FactsError line, never a traceback; every extension read names a file under site-packages or
dist-packages of the text, and a symbol the text holds, in torch's namespaces; adversarial
1 MB lines built from the patterns' fragments finish within the bound."""

from __future__ import annotations

import pytest
from hypothesis import strategies as st

from envlock.pasted.extsymbol import read_ext_symbols
from tests.fuzz import pastes
from tests.pasted import test_ext_symbols as cases
from tests.pasted.test_torch_import_error import FLASH_ATTN_SYMBOL

pytestmark = pytest.mark.fuzz

TEXTS = [
    cases.FLASH_ATTN,
    cases.TORCHVISION,
    cases.TE,
    cases.CHECKOUT,
    cases.DRIVER_SYMBOL,
    cases.OWN_FRAME,
    cases.IMAGE_WARNING,
    cases.DYLD,
    FLASH_ATTN_SYMBOL,
]
LINES = pastes.lines_of(TEXTS)
PIECES = st.sampled_from(
    [
        ": undefined symbol: ",
        "Symbol not found: ",
        "  Referenced from: ",
        "/site-packages/",
        "_ZN3c10",
        "__ZNK2at",
        "'",
        "\n",
        ".so",
        "I used to get ",
    ]
)


def _holds(text: str) -> None:
    reading = read_ext_symbols(text)
    if reading is None:
        return
    assert 0 < len(reading.extensions) <= 8
    for ext in reading.extensions:
        assert ext["file"] in text
        assert ext["distribution"] and ext["distribution"] != "torch"
        (symbol,) = ext["missing_torch_symbols"]
        assert symbol in text
        assert symbol.startswith(("_Z", "aoti_torch_")), symbol


FUZZ = pastes.ReaderFuzz((read_ext_symbols,), LINES, PIECES, holds=_holds)
test_real_lines_in_any_order_read_or_refuse = FUZZ.real_lines_test()
test_mangled_lines_never_raise = FUZZ.mangled_lines_test()
test_random_text_never_raises = FUZZ.any_text_test()

# (context, fragment, tail): the state a pattern runs in, its repeated piece, a failing end
ADVERSARIAL = [
    ("", ": undefined symbol: ", "x"),
    ("/a/site-packages/b/c.so", ": undefined symbol: _ZN3c10", "x"),
    ("", "/site-packages/a", ": undefined symbol: _ZN3c104cuda9SetDeviceEi"),
    ("", "Symbol not found: __ZN3c10", "x"),
    ("Symbol not found: __ZN3c106Device8validateEv\n", "  Referenced from: ", "x"),
    ("", "'", ": undefined symbol: _ZN2at4_ops"),
    ("", "_ZN3c10", "x"),
    ("", "undefined ", "x"),
    ("/a/site-packages/b/c.so:", "\nundefined symbol:\t", "x"),
]

test_a_long_adversarial_line_stays_in_bound = FUZZ.adversarial_test(ADVERSARIAL)
