"""The one rendering boundary for untrusted text (environment values, lock and facts files,
what an image printed): data, never markup, never terminal control.

`plain()` escapes control characters (ESC sequences, NUL, CR), bidirectional overrides,
lone surrogates and the characters XML cannot hold, so the text, JUnit and GitHub
renderers can print any value; rich receives it as `Text`, never parsed as markup.
"""

from __future__ import annotations

import re

# C0 controls but tab and newline, DEL and C1 controls, the Unicode line and paragraph
# separators, bidi overrides/isolates, surrogates, and the two XML non-characters: none
# is printable (str.isprintable; tests/report/test_safe.py checks every code
# point), so text that is, tabs and newlines aside, needs no pattern. Compiled at the
# first text that is not (~0.3 ms of a replayed repeat restore otherwise, issue 23).
_UNSAFE_CLASS = (
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]"
)
_UNSAFE: list[re.Pattern[str]] = []


def _escape(m: re.Match[str]) -> str:
    c = m.group()
    return f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}"


def plain(value: object, *, newlines: bool = True) -> str:
    """`value` as printable text; with newlines=False a newline is escaped too (one line)."""
    text = str(value)
    if not text.isprintable() and not text.replace("\n", "").replace("\t", "").isprintable():
        if not _UNSAFE:
            _UNSAFE.append(re.compile(_UNSAFE_CLASS))
        text = _UNSAFE[0].sub(_escape, text)
    return text if newlines else text.replace("\n", "\\n")
