"""Slurm-style hostlists: `gpu-node-[000-006,008]` <-> the host names it stands for.

`compress_hostlist` writes them (fleet reports name the nodes holding each value);
`Hostlist.parse` reads them (`fleet report --nodes 'gpu-node-[000-063]'`): ranges
with zero padding kept, several bracketed ranges in one name (`r[1-2]n[01-04]`),
and comma lists at the top level (`login1,gpu[1-4]`). Pure: no I/O.

A list is never expanded to read it: `n[0-999999]` is one range, not a million
strings. Each name is seen as its text with every run of ASCII digits (up to
MAX_DIGITS of them) as a number; names alike but for those numbers share a
skeleton, and a skeleton's names are held as ranges over one of its numbers
(keyed by the values of the others), merged across the list: repeats and
overlaps count once, and the count, membership and the names missing from a set
are computed on the ranges. A range next to other digits (`a1[0-9]`) is the one
thing expanded, to at most MAX_EXPANDED names. The text itself is bounded
(MAX_CHARS), and every message quotes at most its first 80 characters.

Here: the set (count, membership, missing hosts) and writing hostlists; the numbers
and range sets are hostranges.py's, reading the text is hostparse.py's.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from envlock.errors import UsageError
from envlock.hostparse import (
    MAX_CHARS,
    MAX_HOSTS,
    Box,
    Key,
    Term,
    boxes_of,
    check_hosts,
    collect_ranges,
    free_numbers,
    read_terms,
    show,
)
from envlock.hostranges import (
    MAX_DIGITS,
    Num,
    Ranges,
    Skeleton,
    bracket_text,
    count_of,
    holds,
    merged,
    split_numbers,
    without,
    written,
)


@dataclass(frozen=True, slots=True)
class Missing:
    """Expected hosts absent from a set: how many, all of them as a hostlist, and the
    first of them by name (in the order the list was written)."""

    count: int
    where: str
    first: list[str]


@dataclass(slots=True)
class Hostlist:
    """The hosts a hostlist names, held as ranges (see the module's description)."""

    text: str
    terms: list[Term] = field(default_factory=list)
    # skeleton -> which of its numbers the ranges run over
    free: dict[Skeleton, int] = field(default_factory=dict)
    # (skeleton, the other numbers) -> ranges of the free one
    ranges: dict[Key, Ranges] = field(default_factory=dict)
    count: int = 0

    @classmethod
    def parse(cls, texts: str | Iterable[str]) -> Hostlist:
        """One hostlist, or several (their union). UsageError (one line) when malformed,
        longer than MAX_CHARS or naming more than MAX_HOSTS hosts."""
        values = [texts] if isinstance(texts, str) else list(texts)
        whole = ",".join(values)
        if len(whole) > MAX_CHARS:
            raise UsageError(
                f"hostlist {show(whole)}: longer than {MAX_CHARS >> 20} MiB ({len(whole)} "
                "characters)"
            )
        out = cls(whole)
        out.terms = read_terms(values)
        boxes: dict[Box, None] = {}
        for term in out.terms:
            check_hosts(term, whole)
            for box in boxes_of(term, whole):
                boxes.setdefault(box, None)
        out.free = free_numbers(boxes)
        for key, pieces in collect_ranges(boxes, out.free, whole).items():
            out.ranges[key] = merged(pieces)
            out.count += count_of(out.ranges[key])
            if out.count > MAX_HOSTS:
                raise UsageError(f"hostlist {show(whole)} names more than {MAX_HOSTS} hosts")
        return out

    def __len__(self) -> int:
        return self.count

    def _locate(self, host: str) -> tuple[Key, Num] | None:
        skeleton, nums = split_numbers(host)
        free = self.free.get(skeleton)
        if free is None:
            return None
        if free < 0:
            return (skeleton, ()), (0, 0)
        return (skeleton, nums[:free] + nums[free + 1 :]), nums[free]

    def __contains__(self, host: object) -> bool:
        if not isinstance(host, str):
            return False
        found = self._locate(host)
        if found is None:
            return False
        ranges = self.ranges.get(found[0])
        return ranges is not None and holds(ranges, found[1])

    def hosts(self) -> Iterator[str]:
        """The names, in the order written, without repeats (expanded as they are read)."""
        done: set[str] = set()
        for term in self.terms:
            for name in term.names():
                if name not in done:
                    done.add(name)
                    yield name

    def missing(self, seen: Iterable[str], *, listed: int = 10_000) -> Missing:
        """The hosts of this list not in `seen`; at most `listed` of them (and 1 MiB of
        names) by name."""
        present, removed = self._present(seen)
        count = self.count - len(present)
        first = self._first_absent(present, min(count, listed)) if count else []
        if len(first) == count:
            return Missing(count, compress_hostlist(first), first)
        return Missing(count, self._without(removed), first)

    def _present(self, seen: Iterable[str]) -> tuple[dict[str, None], dict[Key, list[Num]]]:
        """The hosts of `seen` in this list (once each), and their numbers per range key."""
        present: dict[str, None] = {}
        removed: dict[Key, list[Num]] = {}
        for host in seen:
            if host in present or host not in self:
                continue
            present[host] = None
            found = self._locate(host)
            assert found is not None
            removed.setdefault(found[0], []).append(found[1])
        return present, removed

    def _first_absent(self, present: dict[str, None], wanted: int) -> list[str]:
        """The first `wanted` hosts not `present`, in the order written (at most about
        MAX_CHARS of names)."""
        first: list[str] = []
        chars = 0
        for host in self.hosts():
            if host in present:
                continue
            first.append(host)
            chars += len(host)
            if len(first) >= wanted or chars > MAX_CHARS:
                break
        return first

    def _without(self, removed: dict[Key, list[Num]]) -> str:
        """This list without the `removed` numbers, as a hostlist (one item per key)."""
        parts = []
        for (skeleton, fixed), ranges in self.ranges.items():
            left = without(ranges, removed.get((skeleton, fixed), ()))
            if not left:
                continue
            free = self.free[skeleton]
            if free < 0:
                parts.append(skeleton[0])
                continue
            numbers = [written(v, w) for v, w in fixed]
            numbers.insert(free, bracket_text(left))
            text = [skeleton[0]]
            for number, rest in zip(numbers, skeleton[1:], strict=True):
                text += [number, rest]
            parts.append("".join(text))
        return ",".join(sorted(parts))


def parse_hostlist(text: str) -> list[str]:
    """The host names `text` stands for, in the order written, without repeats.

    `gpu-node-[000-002,007]` -> gpu-node-000, -001, -002, -007 (the padding of a range's
    first number is kept); `a[1-2]b[1-2]` -> a1b1, a1b2, a2b1, a2b2; `x1,y[3-4]` -> x1, y3,
    y4. A malformed list is a UsageError naming what is wrong. Expands the list: for
    fleets, `Hostlist.parse` holds it as ranges.
    """
    return list(Hostlist.parse(text).hosts())


# ---------------------------------------------------------------------- writing
def _last_number(host: str) -> tuple[str, str, str] | None:
    """(prefix, digits, suffix) around the last run of ASCII digits; None without one or
    when that run is longer than MAX_DIGITS (then it is not a node number)."""
    end = len(host)
    while end and not ("0" <= host[end - 1] <= "9"):
        end -= 1
    start = end
    while start and "0" <= host[start - 1] <= "9":
        start -= 1
    if start == end or end - start > MAX_DIGITS:
        return None
    return host[:start], host[start:end], host[end:]


def compress_hostlist(hosts: Iterable[str]) -> str:
    """Host names the way cluster tools write them: `gpu-node-[001-006,008]`.

    Names that differ only in their last run of digits share one bracket (ranges for
    consecutive numbers); zero padding is kept, so `node09,node10` -> `node[09-10]` and
    `node9,node10` -> `node[9-10]`. Other names are listed as they are. Sorted, no repeats.
    """
    unique = sorted(set(hosts))
    parsed = [(h, _last_number(h)) for h in unique]
    padded = {(m[0], m[2], len(m[1])) for _, m in parsed if m and len(m[1]) > 1 and m[1][0] == "0"}
    groups: dict[tuple[str, str, int], set[int]] = {}
    plain: list[str] = []
    for host, m in parsed:
        if m is None:
            plain.append(host)
            continue
        prefix, digits, suffix = m
        width = len(digits) if (prefix, suffix, len(digits)) in padded else 0
        groups.setdefault((prefix, suffix, width), set()).add(int(digits))
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
