"""report/progress.py itself: what it writes is data, never markup or terminal control,
and a count in a log is a line every tenth, not one per item."""

from __future__ import annotations

import io

import pytest

from envlock.report.progress import SILENT, Lines, Live, on_stderr


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


HOSTILE = "[bold red]pwn[/bold red] \x1b[2J\x1b]0;title\x07 \r ok"


def test_lines_escape_control_characters_and_keep_markup_as_text() -> None:
    out = io.StringIO()
    p = Lines(out, "envlock x")
    p.step(HOSTILE)
    p.output(HOSTILE)
    text = out.getvalue()
    assert "\x1b" not in text and "\r" not in text and "\x07" not in text
    assert "[bold red]pwn[/bold red]" in text and "\\x1b[2J" in text


def test_live_shows_hostile_text_as_text() -> None:
    out = Terminal()
    p = Live(out, "envlock x")
    p.step(HOSTILE)
    p.output(HOSTILE)
    p.close()
    text = out.getvalue()
    assert "[bold red]pwn[/bold red]" in text  # not parsed as markup
    assert "\x1b[2J" not in text and "\x1b]0;" not in text  # the input's escapes are escaped
    assert "\\x1b[2J" in text


def test_a_count_is_a_line_every_tenth() -> None:
    out = io.StringIO()
    p = Lines(out, "envlock x")
    for i in range(1, 1001):
        p.count("files", i, 1000)
    lines = out.getvalue().splitlines()
    assert lines[0] == "envlock x: files: 1/1000" and lines[-1] == "envlock x: files: 1000/1000"
    assert len(lines) == 11


def test_quiet_and_no_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "xterm")
    assert on_stderr("x", quiet=True, stream=Terminal()) is SILENT
    assert isinstance(on_stderr("x", stream=io.StringIO()), Lines)
    assert isinstance(on_stderr("x", stream=Terminal()), Live)
    monkeypatch.setenv("TERM", "dumb")  # a terminal that cannot redraw a line: lines
    assert isinstance(on_stderr("x", stream=Terminal()), Lines)
