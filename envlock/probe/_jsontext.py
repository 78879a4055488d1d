"""json.dumps(doc, indent=2)'s exact text, written without the json package (stdlib only,
Python 3.8).

A probe served into a fresh container paid ~5-8 ms to import json, which imports re and
enum, for the one document it prints. The facts are plain JSON values (dicts with str
keys, lists, tuples, str, int, float, bool, None), and for those this writes what json's
own indenting encoder writes: its separators, strings escaped to ASCII by the C function
json itself uses (_json.encode_basestring_ascii), int.__repr__ and float.__repr__, NaN
and Infinity as json spells them. Anything else (a key that is not a str, another type,
a document nested too deeply) is handed to json.dumps, so the text is json's whatever
the document (tests/probe/test_jsontext.py holds both against json).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

_quote: Callable[[str], str] | None = None
try:
    from _json import encode_basestring_ascii

    _quote = encode_basestring_ascii
except ImportError:  # a Python without json's accelerator: json.dumps writes it
    pass

_INDENT = "  "
_INF = float("inf")


class _NotPlain(Exception):
    """A value json's encoder treats in a way this module does not write itself."""


def dumps_indented(doc: object) -> str:
    """json.dumps(doc, indent=2)."""
    if _quote is not None:
        parts: list[str] = []
        try:
            _value(doc, parts, 0)
            return "".join(parts)
        except (_NotPlain, RecursionError):
            pass
    import json

    return json.dumps(doc, indent=2)


def _value(o: object, out: list[str], level: int) -> None:
    """o's text onto `out`, in the order json's _iterencode tests the types."""
    assert _quote is not None
    if isinstance(o, str):
        out.append(_quote(o))
    elif o is None:
        out.append("null")
    elif o is True:
        out.append("true")
    elif o is False:
        out.append("false")
    elif isinstance(o, int):
        out.append(int.__repr__(o))
    elif isinstance(o, float):
        out.append(_float(o))
    elif isinstance(o, (list, tuple)):
        _array(o, out, level)
    elif isinstance(o, dict):
        _object(o, out, level)
    else:
        raise _NotPlain


def _float(o: float) -> str:
    if o != o:
        return "NaN"
    if o == _INF:
        return "Infinity"
    if o == -_INF:
        return "-Infinity"
    return float.__repr__(o)


def _array(items: list[object] | tuple[object, ...], out: list[str], level: int) -> None:
    if not items:
        out.append("[]")
        return
    inner = "\n" + _INDENT * (level + 1)
    out.append("[" + inner)
    for i, item in enumerate(items):
        if i:
            out.append("," + inner)
        _value(item, out, level + 1)
    out.append("\n" + _INDENT * level + "]")


def _object(members: dict[object, object], out: list[str], level: int) -> None:
    if not members:
        out.append("{}")
        return
    assert _quote is not None
    inner = "\n" + _INDENT * (level + 1)
    out.append("{" + inner)
    for i, (key, item) in enumerate(members.items()):
        if not isinstance(key, str):
            raise _NotPlain  # json turns numbers, bools and None into keys its own way
        if i:
            out.append("," + inner)
        out.append(_quote(key) + ": ")
        _value(item, out, level + 1)
    out.append("\n" + _INDENT * level + "}")
