"""collect_env run in a notebook cell and pasted from the .ipynb file: each line of the output
a JSON string ending in its line break ('"PyTorch version: 2.1.2+cu121\\n",'), read as the
lines it holds (a step of envlock/pasted/layout.py)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

# a notebook's output as its .ipynb file stores it: each line a JSON string ending in its
# line break ('"PyTorch version: 2.1.2+cu121\\n",'); possessive, each character looked at once
_JSON_LINE = re.compile(r'[ \t]*+"((?:[^"\\]|\\.)*+)",?+[ \t]*+')
# the last line of an excerpt cut inside its string
_JSON_CUT = re.compile(r'[ \t]*+"((?:[^"\\]|\\.)*+)')


def notebook_lines(lines: list[str], key_of: Callable[[str], str | None]) -> list[str]:
    """A notebook's stored output (lines that are JSON strings ending in their line break,
    at least two holding a report's key line, as `key_of` tells) as the lines it holds,
    JSON's escapes undone, a last string cut by an excerpt too; other text as it is."""
    values = [_json_line(line) for line in lines]
    keyed = sum(1 for v in values if v is not None and key_of(_json_unescaped(v)))
    if keyed < 2:
        return lines
    # the last string, where an excerpt cut it (the text around the output is kept)
    last = max(i for i, v in enumerate(values) if v is not None)
    cut = next((i for i in range(last + 1, len(lines)) if lines[i].strip()), None)
    m = _JSON_CUT.fullmatch(lines[cut]) if cut is not None else None
    if cut is not None and m:
        values[cut] = m.group(1)
    return [
        line if v is None else _json_unescaped(v) for line, v in zip(lines, values, strict=True)
    ]


def _json_line(line: str) -> str | None:
    """The content of a stored output line ('"text\\n",'), without its line break."""
    m = _JSON_LINE.fullmatch(line)
    return m.group(1)[:-2] if m and m.group(1).endswith("\\n") else None


def _json_unescaped(value: str) -> str:
    """A JSON string's content without its escapes (\\n, \\", \\\\, \\uXXXX); as it is
    when they do not decode (a string cut inside an escape)."""
    if "\\" not in value:
        return value
    try:
        decoded = json.loads(f'"{value}"')
    except ValueError:
        return value
    return decoded if isinstance(decoded, str) else value
