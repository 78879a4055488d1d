"""Markdown emphasis put around a whole pasted line: "**GeForce RTX 3090 with CUDA capability
sm_86 is not compatible ...**" (detectron2#3076 bolded torch's warning), which a rendered
issue shows as bold and whose markers are no part of the report's text."""

from __future__ import annotations

# the longest first: "**" before "*"
_MARKS = ("**", "__", "*")


def unemphasized(line: str) -> str:
    """The line without one pair of emphasis markers around all of its text (its
    indentation kept); any other line as it is. String operations only: linear time."""
    text = line.strip()
    for mark in _MARKS:
        n = len(mark)
        if len(text) <= 2 * n or not (text.startswith(mark) and text.endswith(mark)):
            continue
        inner = text[n:-n]
        # "*x*" is emphasis, "* x *" is not; a lone "*" must not be half of a "**"
        if inner[0].isspace() or inner[-1].isspace() or inner[0] in "*_" or inner[-1] in "*_":
            return line
        return line[: len(line) - len(line.lstrip())] + inner
    return line
