"""Styled lines for the text renderers, printed without rich where rich would add nothing.

Off a terminal rich prints no colour and, at envlock's unbounded width, folds nothing: a
line of text comes out as itself. Importing rich costs 35-110 ms, more than the rest of
`envlock verify` on a warm cache, so a `Printer` writes such lines itself and loads rich
only for what needs it: a terminal (colour, its width), a table, or a line rich would
change (a tab, a control character, one longer than the width, a COLUMNS set).
`tests/report/test_printer.py` and `tests/fuzz/test_fuzz_printer.py` hold both ways of
printing to the same output.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, TextIO, cast

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.text import Text


# Output that is not a terminal (a CI log, a pipe, a file) is read later, often by a
# program: no value may be cut or folded to fit a screen nobody is looking at.
UNBOUNDED = 1_000_000


class _Unpadded:
    """The stream under a console that is not a terminal: each line ends in its last
    visible character. rich pads cells, and an empty table's title, to the console width,
    which is UNBOUNDED here: `envlock probe | cat` wrote a million spaces per empty section.
    rich writes a print at a time, so the blanks that end a write are held back until the
    next write says whether they were inside a line (written) or at its end (dropped)."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._held = ""
        # rich draws boxes in ASCII for a stream that cannot encode them
        self.encoding: str = getattr(out, "encoding", None) or "utf-8"

    def write(self, text: str) -> int:
        lines = (self._held + text).split("\n")
        last = lines.pop()
        kept = last.rstrip(" ")
        self._held = last[len(kept) :]
        done = "".join(f"{line.rstrip(' ')}\n" for line in lines) + kept
        if done:
            self._out.write(done)
        return len(text)

    def flush(self) -> None:
        self._out.flush()

    def isatty(self) -> bool:
        return False

    def writable(self) -> bool:
        return True


def console_for(out: TextIO) -> Console:
    """Never parses markup (a value "[/x]" crashed the report, "[link=...]" became a live
    hyperlink; values also go through plain()). A terminal gets its own width; anything else COLUMNS when set, else no limit
    (rich would use 80 and truncate digests, versions and library paths), and no padding at
    the end of a line."""
    from rich.console import Console

    isatty = getattr(out, "isatty", None)
    if callable(isatty) and isatty():
        return Console(file=out, highlight=False, soft_wrap=False, markup=False, emoji=False)
    return Console(
        file=cast(TextIO, _Unpadded(out)),
        highlight=False,
        soft_wrap=False,
        width=width_for(),
        markup=False,
        emoji=False,
    )


def width_for() -> int:
    """The width of output that is not a terminal: COLUMNS when set, else no limit."""
    columns = os.environ.get("COLUMNS", "")
    return int(columns) if columns.isdigit() and int(columns) > 0 else UNBOUNDED


class Line:
    """A line of styled text (rich's `Text` where rich prints it): its base text and
    style, then the spans appended to it."""

    __slots__ = ("_spans",)

    def __init__(self, text: str = "", style: str | None = None) -> None:
        self._spans: list[tuple[str, str | None]] = [(text, style)]

    def append(self, text: str, style: str | None = None) -> Line:
        self._spans.append((text, style))
        return self

    @property
    def plain(self) -> str:
        return "".join(text for text, _ in self._spans)

    def to_rich(self) -> Text:
        from rich.text import Text

        (base, base_style), *rest = self._spans
        out = Text(base, style=base_style or "")
        for text, style in rest:
            out.append(text, style=style)
        return out


def _printable_as_is(text: str, width: int) -> bool:
    """rich prints `text` unchanged off a terminal at `width`: no tab (expanded), no
    control character (stripped) and no line it would fold (a cell is at most 2 wide)."""
    if any(c < " " and c != "\n" for c in text):
        return False
    return all(2 * len(line) <= width for line in text.split("\n"))


def _rich_only(out: TextIO) -> bool:
    """What makes rich's output differ from the text itself: a terminal, colour forced
    (FORCE_COLOR, TTY_COMPATIBLE) or a notebook (rich displays HTML there)."""
    isatty = getattr(out, "isatty", None)
    if callable(isatty) and isatty():
        return True
    env = os.environ
    if env.get("TTY_COMPATIBLE") == "1" or env.get("FORCE_COLOR"):
        return True
    return "IPython" in sys.modules


class Printer:
    """Prints `Line`s (and, through rich, anything rich renders) to one stream as
    `report.text.console_for`'s console would."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._console: Console | None = None
        self._width = width_for()
        self._plain = not _rich_only(out)

    @property
    def console(self) -> Console:
        """rich's console on the same stream, made (and rich imported) on first use."""
        if self._console is None:
            self._console = console_for(self._out)
        return self._console

    def print(
        self, item: Line | RenderableType, *, style: str | None = None, soft_wrap: bool = False
    ) -> None:
        if isinstance(item, Line):
            text = item.plain
            if self._plain and _printable_as_is(text, self._width):
                self._out.write("".join(f"{line.rstrip(' ')}\n" for line in text.split("\n")))
                return
            item = item.to_rich()
        self.console.print(item, style=style, soft_wrap=soft_wrap)
