"""Host names as text around numbers, and sets of numbers as merged ranges: the arithmetic
hostlist.py holds a fleet's names with, never expanding a range (pure)."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Iterator

DIGIT_RUN = re.compile(r"[0-9]+")
# A longer run of digits is text, not a node number (int() refuses 4,300 digits).
MAX_DIGITS = 18

Num = tuple[int, int]  # (value, width): width 0 unpadded, else the zero-padded length
Ranges = tuple[tuple[int, int, int], ...]  # (width, lo, hi), merged, sorted
Skeleton = tuple[str, ...]  # a name's text around its numbers


def number_of(digits: str) -> Num:
    return int(digits), (len(digits) if len(digits) > 1 and digits[0] == "0" else 0)


def written(value: int, width: int) -> str:
    return f"{value:0{width}d}" if width else str(value)


def split_numbers(name: str) -> tuple[tuple[str, ...], tuple[Num, ...]]:
    """(texts, numbers): `name` is texts[0] + numbers[0] + texts[1] + ...; each number a
    maximal run of at most MAX_DIGITS ASCII digits (longer runs stay text)."""
    texts: list[str] = []
    nums: list[Num] = []
    start = 0
    for m in DIGIT_RUN.finditer(name):
        if m.end() - m.start() > MAX_DIGITS:
            continue
        texts.append(name[start : m.start()])
        nums.append(number_of(m.group()))
        start = m.end()
    texts.append(name[start:])
    return tuple(texts), tuple(nums)


def merged(ranges: Iterable[tuple[int, int, int]]) -> Ranges:
    out: list[tuple[int, int, int]] = []
    for w, lo, hi in sorted(ranges):
        if out and out[-1][0] == w and lo <= out[-1][2] + 1:
            if hi > out[-1][2]:
                out[-1] = (w, out[-1][1], hi)
        else:
            out.append((w, lo, hi))
    return tuple(out)


def count_of(ranges: Ranges) -> int:
    return sum(hi - lo + 1 for _w, lo, hi in ranges)


def holds(ranges: Ranges, num: Num) -> bool:
    value, width = num
    i = bisect.bisect_right(ranges, (width, value, float("inf"))) - 1
    return i >= 0 and ranges[i][0] == width and ranges[i][1] <= value <= ranges[i][2]


def without(ranges: Ranges, nums: Iterable[Num]) -> Ranges:
    """`ranges` without the numbers `nums` (each of which lies in them)."""
    out = list(ranges)
    for value, width in sorted(set(nums)):
        i = bisect.bisect_right(out, (width, value, float("inf"))) - 1
        w, lo, hi = out[i]
        pieces = [(w, lo, value - 1)] if lo < value else []
        if value < hi:
            pieces.append((w, value + 1, hi))
        out[i : i + 1] = pieces
    return tuple(out)


def bracket_text(ranges: Ranges) -> str:
    if len(ranges) == 1 and ranges[0][1] == ranges[0][2]:
        return written(ranges[0][1], ranges[0][0])
    by_number = sorted(ranges, key=lambda r: (r[1], r[0]))
    parts = [
        written(lo, w) if lo == hi else f"{written(lo, w)}-{written(hi, w)}"
        for w, lo, hi in by_number
    ]
    return "[" + ",".join(parts) + "]"


def numbers_in(ranges: Ranges) -> Iterator[Num]:
    for w, lo, hi in ranges:
        for v in range(lo, hi + 1):
            yield v, w
