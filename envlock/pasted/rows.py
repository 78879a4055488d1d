"""Rows of one list or table in a pasted report, told from a hard wrap's pieces (issue 21).

A line as wide as a paste's widest, followed by a line that begins no line of a report, reads
as cut at a terminal's width. Lists and tables say otherwise: the next line is an item of
the same list (the same bullet at the same indentation: an issue form's "- Platform: ..."
then "- Python version: ...", torch's config "  - Intel(R) MKL ..." then "  - OpenMP ...")
or a row of the same table (its value at the same column after a run of blanks:
detectron2's table, xFormers' feature list, a dashed rule over the rows), or another member
of the same JSON object (a webui Sysinfo dump's '"python_platform": ...'). A cut's rest starts
wherever the column fell, not at the list's bullet or the table's column.

A list of NAME=value items separated by commas (torch's "Build settings: BLAS_INFO=mkl,
BUILD_TYPE=Release, ...") wrapped after a comma goes on in the next line, though an item
there reads as an environment variable's line: collect_env prints those one a line, never
after a comma.

String operations only, one pass over each of the two lines: linear time.
"""

from __future__ import annotations

import re

_BULLETS = "-*+"
_ITEM = re.compile(r"[ \t]*+[A-Z][A-Z0-9_]{0,80}+=")


def same_rows(line: str, nxt: str) -> bool:
    """Whether `nxt` is another item of `line`'s list, row of its table or member of its
    JSON object (so it starts a line of its own, not the rest of a cut `line`)."""
    indent = _indent(line)
    if indent != _indent(nxt):
        return False
    bullet = _bullet(line, indent)
    if bullet:
        return bullet == _bullet(nxt, indent)
    if _member(line, indent) and _member(nxt, indent):
        return True
    column = _value_column(line, indent)
    return column is not None and column == _value_column(nxt, indent)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _bullet(line: str, indent: int) -> str:
    """The list bullet ("- ", "* ", "+ ") at `indent`, or ""."""
    mark = line[indent : indent + 2]
    return mark if len(mark) == 2 and mark[0] in _BULLETS and mark[1] in " \t" else ""


def _member(line: str, indent: int) -> bool:
    """Whether the line is a JSON object's member ('"python_version": "3.10.6 ..."')."""
    return line[indent : indent + 1] == '"' and '":' in line


def _value_column(line: str, indent: int) -> int | None:
    """Where a row's value starts: after the first run of two blanks or more that follows
    the row's key (None: no such run, or nothing after it)."""
    gap = line.find("  ", indent)
    if gap <= indent:
        return None
    column = gap + 2
    while column < len(line) and line[column] == " ":
        column += 1
    return column if column < len(line) else None


def continues_list(line: str, nxt: str) -> bool:
    """Whether `nxt` goes on with `line`'s comma-separated list of NAME=value items."""
    return line.rstrip().endswith(",") and "=" in line and _ITEM.match(nxt) is not None
