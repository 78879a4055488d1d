"""report/safe.plain(): text that is printable (tabs and newlines aside) is returned as
it is without compiling the unsafe class (a replayed repeat restore's progress lines,
issue 23); every code point the class escapes is one str.isprintable() refuses, so the
fast path never lets one through."""

from __future__ import annotations

import re

import pytest

from envlock.report import safe


def test_every_code_point_the_class_escapes_is_not_printable() -> None:
    unsafe = re.compile(safe._UNSAFE_CLASS)
    assert [c for c in range(0x110000) if unsafe.match(chr(c)) and chr(c).isprintable()] == []


@pytest.mark.parametrize(
    "text",
    ["plain ascii", "tab\there", "line\nnext", "caf\u00e9 \u4e2d", "esc\x1b[31mred", "nul\x00",
     "cr\rx", "bidi\u202eevil", "lone \ud800 surrogate", "\ufffe", "del\x7f", "c1\x85"],
)  # fmt: skip
def test_plain_escapes_as_the_pattern_always_did(text: str) -> None:
    unsafe = re.compile(safe._UNSAFE_CLASS)
    for newlines in (True, False):
        want = unsafe.sub(safe._escape, text)
        want = want if newlines else want.replace("\n", "\\n")
        assert safe.plain(text, newlines=newlines) == want


def test_printable_text_compiles_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(safe, "_UNSAFE", [])
    assert safe.plain("envlock restore:   Resolved 6 packages in 80ms\tok\n") == (
        "envlock restore:   Resolved 6 packages in 80ms\tok\n"
    )
    assert safe._UNSAFE == []
    assert safe.plain("x\x1b") == "x\\x1b" and len(safe._UNSAFE) == 1
