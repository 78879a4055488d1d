"""The one-line reason helpers every error message goes through."""

from __future__ import annotations

from envlock.errors import first_line, last_line


def test_first_and_last_line() -> None:
    text = "\n  Traceback (most recent call last):\n  ...\nRuntimeError: CUDA error  \n\n"
    assert first_line(text) == "Traceback (most recent call last):"
    assert last_line(text) == "RuntimeError: CUDA error"
    assert first_line(ConnectionRefusedError(111, "Connection refused")) == (
        "[Errno 111] Connection refused"
    )
    assert first_line("", "no output") == last_line("  \n", "no output") == "no output"
