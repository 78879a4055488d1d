"""Slurm-style hostlists: `gpu-node-[000-006,008]` <-> the host names it stands for.

`compress_hostlist` writes them (fleet reports name the nodes holding each value);
`parse_hostlist` reads them (`fleet report --nodes 'gpu-node-[000-063]'`): ranges
with zero padding kept, several bracketed ranges in one name (`r[1-2]n[01-04]`),
and comma lists at the top level (`login1,gpu[1-4]`). Pure: no I/O.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable

from envlock.errors import UsageError

_HOST_NUMBER = re.compile(r"^(.*?)(\d+)(\D*)$")
# What a host name may hold besides the brackets: DNS labels, dots, underscores.
_NAME = re.compile(r"^[A-Za-z0-9._-]*$")
# A hostlist naming more hosts than this is a typo (`[0-99999999]`), not a fleet.
MAX_HOSTS = 1_000_000


def compress_hostlist(hosts: Iterable[str]) -> str:
    """Host names the way cluster tools write them: `gpu-node-[001-006,008]`.

    Names that differ only in their last run of digits share one bracket (ranges for
    consecutive numbers); zero padding is kept, so `node09,node10` -> `node[09-10]` and
    `node9,node10` -> `node[9-10]`. Other names are listed as they are. Sorted, no repeats.
    """
    unique = sorted(set(hosts))
    parsed = [(h, _HOST_NUMBER.match(h)) for h in unique]
    padded = {(m[1], m[3], len(m[2])) for _, m in parsed if m and len(m[2]) > 1 and m[2][0] == "0"}
    groups: dict[tuple[str, str, int], set[int]] = defaultdict(set)
    plain: list[str] = []
    for host, m in parsed:
        if m is None:
            plain.append(host)
            continue
        prefix, digits, suffix = m[1], m[2], m[3]
        width = len(digits) if (prefix, suffix, len(digits)) in padded else 0
        groups[(prefix, suffix, width)].add(int(digits))
    out = []
    for (prefix, suffix, width), numbers in sorted(groups.items()):
        nums = sorted(numbers)
        if len(nums) == 1:
            out.append(
                f"{prefix}{nums[0]:0{width}d}{suffix}" if width else f"{prefix}{nums[0]}{suffix}"
            )
            continue
        out.append(f"{prefix}[{ranges(nums, width)}]{suffix}")
    return ",".join(sorted(out + plain))


def ranges(nums: list[int], width: int = 0) -> str:
    """Sorted numbers as `1-3,5`, each padded to `width` digits."""
    out, start = [], None
    for i, n in enumerate(nums):
        if start is None:
            start = n
        if i + 1 == len(nums) or nums[i + 1] != n + 1:
            a, b = f"{start:0{width}d}", f"{n:0{width}d}"
            out.append(a if start == n else f"{a}-{b}")
            start = None
    return ",".join(out)


def parse_hostlist(text: str) -> list[str]:
    """The host names `text` stands for, in the order written, without repeats.

    `gpu-node-[000-002,007]` -> gpu-node-000, -001, -002, -007 (the padding of a range's
    first number is kept); `a[1-2]b[1-2]` -> a1b1, a1b2, a2b1, a2b2; `x1,y[3-4]` -> x1, y3,
    y4. A malformed list is a UsageError naming what is wrong.
    """
    items = _split_top(text)
    seen: dict[str, None] = {}
    for item in items:
        for host in _expand(item, text):
            seen[host] = None
            if len(seen) > MAX_HOSTS:
                raise UsageError(f"hostlist {text[:80]!r} names more than {MAX_HOSTS} hosts")
    return list(seen)


def _split_top(text: str) -> list[str]:
    items: list[str] = []
    cur: list[str] = []
    depth = 0
    for c in text.strip():
        if c == "[":
            depth += 1
            if depth > 1:
                raise UsageError(f"hostlist {text!r}: nested '['")
        elif c == "]":
            depth -= 1
            if depth < 0:
                raise UsageError(f"hostlist {text!r}: ']' without '['")
        if c == "," and depth == 0:
            items.append("".join(cur))
            cur = []
        else:
            cur.append(c)
    if depth:
        raise UsageError(f"hostlist {text!r}: '[' is never closed")
    items.append("".join(cur))
    for item in items:
        if not item.strip():
            raise UsageError(f"hostlist {text!r}: an empty name")
    return [i.strip() for i in items]


_BRACKET = re.compile(r"\[([^\[\]]*)\]")


def _expand(item: str, text: str) -> list[str]:
    parts = _BRACKET.split(item)  # literal, bracket, literal, bracket, ..., literal
    for literal in parts[::2]:
        if not _NAME.match(literal):
            raise UsageError(f"hostlist {text!r}: {literal!r} is not a host name")
    hosts = [""]
    for i, part in enumerate(parts):
        if i % 2 == 0:
            hosts = [h + part for h in hosts]
            continue
        numbers = _numbers(part, text)
        if len(hosts) * len(numbers) > MAX_HOSTS:
            raise UsageError(f"hostlist {text[:80]!r} names more than {MAX_HOSTS} hosts")
        hosts = [h + n for h in hosts for n in numbers]
    return hosts


def _numbers(inner: str, text: str) -> list[str]:
    out: list[str] = []
    for piece in inner.split(","):
        piece = piece.strip()
        lo, sep, hi = piece.partition("-")
        if not lo.isdigit() or (sep and not hi.isdigit()) or not lo.isascii() or not hi.isascii():
            raise UsageError(f"hostlist {text!r}: [{inner}] is not a list of numbers and ranges")
        width = len(lo) if len(lo) > 1 and lo[0] == "0" else 0
        a, b = int(lo), int(hi) if sep else int(lo)
        if b < a:
            raise UsageError(f"hostlist {text!r}: range {piece} runs backwards")
        if b - a + len(out) >= MAX_HOSTS:
            raise UsageError(f"hostlist {text[:80]!r} names more than {MAX_HOSTS} hosts")
        out.extend(f"{n:0{width}d}" for n in range(a, b + 1))
    return out
