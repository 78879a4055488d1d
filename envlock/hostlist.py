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
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from envlock.errors import UsageError

# What a host name may hold besides the brackets: DNS labels, dots, underscores.
_NAME = re.compile(r"^[A-Za-z0-9._-]*$")
_DIGIT_RUN = re.compile(r"[0-9]+")
_BRACKET = re.compile(r"\[([^\[\]]*)\]")
# A hostlist naming more hosts than this is a typo (`[0-99999999]`), not a fleet.
MAX_HOSTS = 1_000_000
# Longer than any real --nodes value (10,000 nodes listed one by one are ~150 KB).
MAX_CHARS = 1 << 20
# A longer run of digits is text, not a node number (int() refuses 4,300 digits).
MAX_DIGITS = 18
# Ranges next to other digits expanded, and separate ranges held, at most.
MAX_EXPANDED = 100_000
MAX_KEYS = 100_000

_Num = tuple[int, int]  # (value, width): width 0 unpadded, else the zero-padded length
_Ranges = tuple[tuple[int, int, int], ...]  # (width, lo, hi), merged, sorted
_Skeleton = tuple[str, ...]  # a name's text around its numbers
_Box = tuple[_Skeleton, tuple[_Ranges, ...]]  # a skeleton, one range set per number
_Key = tuple[_Skeleton, tuple[_Num, ...]]  # a skeleton, the values of all but its free number


def _num(digits: str) -> _Num:
    return int(digits), (len(digits) if len(digits) > 1 and digits[0] == "0" else 0)


def _fmt(value: int, width: int) -> str:
    return f"{value:0{width}d}" if width else str(value)


def _runs(name: str) -> tuple[tuple[str, ...], tuple[_Num, ...]]:
    """(texts, numbers): `name` is texts[0] + numbers[0] + texts[1] + ...; each number a
    maximal run of at most MAX_DIGITS ASCII digits (longer runs stay text)."""
    texts: list[str] = []
    nums: list[_Num] = []
    start = 0
    for m in _DIGIT_RUN.finditer(name):
        if m.end() - m.start() > MAX_DIGITS:
            continue
        texts.append(name[start : m.start()])
        nums.append(_num(m.group()))
        start = m.end()
    texts.append(name[start:])
    return tuple(texts), tuple(nums)


def _merge(ranges: Iterable[tuple[int, int, int]]) -> _Ranges:
    out: list[tuple[int, int, int]] = []
    for w, lo, hi in sorted(ranges):
        if out and out[-1][0] == w and lo <= out[-1][2] + 1:
            if hi > out[-1][2]:
                out[-1] = (w, out[-1][1], hi)
        else:
            out.append((w, lo, hi))
    return tuple(out)


def _size(ranges: _Ranges) -> int:
    return sum(hi - lo + 1 for _w, lo, hi in ranges)


def _has(ranges: _Ranges, num: _Num) -> bool:
    value, width = num
    i = bisect.bisect_right(ranges, (width, value, float("inf"))) - 1
    return i >= 0 and ranges[i][0] == width and ranges[i][1] <= value <= ranges[i][2]


def _minus(ranges: _Ranges, nums: Iterable[_Num]) -> _Ranges:
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


def _bracket_text(ranges: _Ranges) -> str:
    if len(ranges) == 1 and ranges[0][1] == ranges[0][2]:
        return _fmt(ranges[0][1], ranges[0][0])
    by_number = sorted(ranges, key=lambda r: (r[1], r[0]))
    parts = [_fmt(lo, w) if lo == hi else f"{_fmt(lo, w)}-{_fmt(hi, w)}" for w, lo, hi in by_number]
    return "[" + ",".join(parts) + "]"


def _values(ranges: _Ranges) -> Iterator[_Num]:
    for w, lo, hi in ranges:
        for v in range(lo, hi + 1):
            yield v, w


# ------------------------------------------------------------------------ parsing
@dataclass(frozen=True, slots=True)
class _Term:
    """One top-level item as written: literals around brackets, each bracket's ranges
    (lo, hi, width) in the order written (for `Hostlist.hosts()`)."""

    literals: tuple[str, ...]
    brackets: tuple[tuple[tuple[int, int, int], ...], ...]

    def _numbers(self, i: int) -> Iterator[str]:
        return (_fmt(n, w) for lo, hi, w in self.brackets[i] for n in range(lo, hi + 1))

    def names(self) -> Iterator[str]:
        """Expanded lazily, one bracket at a time (itertools.product would first read
        every bracket in full)."""
        k = len(self.brackets)
        if not k:
            yield self.literals[0]
            return
        prefixes = [self.literals[0]] + [""] * k
        numbers = [self._numbers(0)]
        while numbers:
            i = len(numbers) - 1
            n = next(numbers[i], None)
            if n is None:
                numbers.pop()
                continue
            prefixes[i + 1] = prefixes[i] + n + self.literals[i + 1]
            if i + 1 == k:
                yield prefixes[k]
            else:
                numbers.append(self._numbers(i + 1))


def _show(text: str) -> str:
    return repr(text[:80]) + ("..." if len(text) > 80 else "")


def _split_top(text: str) -> list[str]:
    """The comma-separated items outside brackets; brackets checked (none nested)."""
    items: list[str] = []
    depth, start = 0, 0
    for m in re.finditer(r"[\[\],]", text):
        c = m.group()
        if c == "[":
            depth += 1
            if depth > 1:
                raise UsageError(f"hostlist {_show(text)}: nested '['")
        elif c == "]":
            depth -= 1
            if depth < 0:
                raise UsageError(f"hostlist {_show(text)}: ']' without '['")
        elif depth == 0:
            items.append(text[start : m.start()])
            start = m.end()
    if depth:
        raise UsageError(f"hostlist {_show(text)}: '[' is never closed")
    items.append(text[start:])
    if any(not i.strip() for i in items):
        raise UsageError(f"hostlist {_show(text)}: an empty name")
    return [i.strip() for i in items]


def _bracket(inner: str, text: str) -> tuple[tuple[int, int, int], ...]:
    out: list[tuple[int, int, int]] = []
    for piece in inner.split(","):
        piece = piece.strip()
        lo, sep, hi = piece.partition("-")
        hi = hi if sep else lo
        for d in (lo, hi):
            if not (d.isascii() and d.isdigit()):
                raise UsageError(
                    f"hostlist {_show(text)}: [{inner[:40]}] is not a list of numbers and ranges"
                )
            if len(d) > MAX_DIGITS:
                raise UsageError(
                    f"hostlist {_show(text)}: {d[:20]}... is not a node number "
                    f"(more than {MAX_DIGITS} digits)"
                )
        a, b = int(lo), int(hi)
        if b < a:
            raise UsageError(f"hostlist {_show(text)}: range {piece} runs backwards")
        out.append((a, b, len(lo) if len(lo) > 1 and lo[0] == "0" else 0))
    return tuple(dict.fromkeys(out))  # a range repeated is read once


def _canonical(lo: int, hi: int, width: int) -> list[tuple[int, int, int]]:
    """A written range as (width, lo, hi) of names' numbers: with padding 3, 7-1234 names
    007-099 (padded) and 100-1234 (as unpadded numbers are written)."""
    if width < 2:
        return [(0, lo, hi)]
    full = 10 ** (width - 1)  # the first number that fills the width
    out = []
    if lo < full:
        out.append((width, lo, min(hi, full - 1)))
    if hi >= full:
        out.append((0, max(lo, full), hi))
    return out


def _term(item: str, text: str) -> _Term:
    parts = _BRACKET.split(item)  # literal, bracket, literal, bracket, ..., literal
    for literal in parts[::2]:
        if not _NAME.match(literal):
            raise UsageError(f"hostlist {_show(text)}: {_show(literal)} is not a host name")
    return _Term(tuple(parts[::2]), tuple(_bracket(b, text) for b in parts[1::2]))


def _boxes(term: _Term, text: str) -> Iterator[_Box]:
    """The term as (skeleton, one range set per number) boxes. A bracket next to digits
    (or to another bracket) is part of a longer number: it is expanded into the text."""
    lits, brackets = term.literals, term.brackets

    def joined(i: int) -> bool:  # bracket i touches digits or a bracket
        before, after = lits[i], lits[i + 1]
        return (
            (before[-1:].isdigit() or (not before and i > 0))
            or after[:1].isdigit()
            or (not after and i + 1 < len(brackets))
        )

    joined_at = [i for i in range(len(brackets)) if joined(i)]
    count = 1
    for i in joined_at:
        count *= sum(hi - lo + 1 for lo, hi, _w in brackets[i])
        if count > MAX_EXPANDED:
            raise UsageError(
                f"hostlist {_show(text)}: a range next to other digits is expanded, and this "
                f"one names more than {MAX_EXPANDED} hosts"
            )
    choices = [
        [_fmt(n, w) for lo, hi, w in brackets[i] for n in range(lo, hi + 1)]
        if i in joined_at
        else [None]
        for i in range(len(brackets))
    ]
    for combo in itertools.product(*choices):
        texts = [""]
        dims: list[_Ranges] = []
        pending = lits[0]
        for i, fixed in enumerate(combo):
            if fixed is not None:
                pending += fixed + lits[i + 1]
                continue
            _add_text(pending, texts, dims)
            dims.append(_merge(r for lo, hi, w in brackets[i] for r in _canonical(lo, hi, w)))
            texts.append("")
            pending = lits[i + 1]
        _add_text(pending, texts, dims)
        yield tuple(texts), tuple(dims)


def _add_text(literal: str, texts: list[str], dims: list[_Ranges]) -> None:
    """Append literal text to a skeleton being built: its digit runs are numbers of one value."""
    t, nums = _runs(literal)
    texts[-1] += t[0]
    for num, rest in zip(nums, t[1:], strict=True):
        dims.append(((num[1], num[0], num[0]),))
        texts.append(rest)


def _read_terms(values: list[str]) -> list[_Term]:
    """Every top-level item of every text, parsed; repeats dropped before anything."""
    terms: dict[_Term, None] = {}
    for text in values:
        for item in _split_top(text.strip()):
            terms.setdefault(_term(item, text), None)
    return list(terms)


def _check_hosts(term: _Term, whole: str) -> None:
    """UsageError when the term alone names more than MAX_HOSTS hosts (counted on its
    ranges, bracket by bracket, before anything is expanded)."""
    hosts = 1
    for b in term.brackets:
        hosts *= _size(_merge(r for lo, hi, w in b for r in _canonical(lo, hi, w)))
        if hosts > MAX_HOSTS:
            raise UsageError(f"hostlist {_show(whole)} names more than {MAX_HOSTS} hosts")


def _free_numbers(boxes: Iterable[_Box]) -> dict[_Skeleton, int]:
    """Per skeleton, the number the ranges run over: the one that varies most (the last
    on a tie); -1 for a skeleton without numbers."""
    spread: dict[_Skeleton, list[int]] = {}
    for skeleton, dims in boxes:
        sizes = spread.setdefault(skeleton, [0] * len(dims))
        for i, d in enumerate(dims):
            sizes[i] += _size(d)
    return {
        skeleton: max(range(len(sizes)), key=lambda i: (sizes[i], i), default=-1)
        for skeleton, sizes in spread.items()
    }


def _collect(
    boxes: Iterable[_Box], free: dict[_Skeleton, int], whole: str
) -> dict[_Key, list[tuple[int, int, int]]]:
    """The boxes' ranges of their free number, per key (skeleton, the other numbers);
    UsageError past MAX_KEYS keys."""
    collected: dict[_Key, list[tuple[int, int, int]]] = {}
    for skeleton, dims in boxes:
        at = free[skeleton]
        keys = 1
        for i, d in enumerate(dims):
            keys *= _size(d) if i != at else 1
        if len(collected) + keys > MAX_KEYS:
            raise UsageError(f"hostlist {_show(whole)}: more than {MAX_KEYS} separate ranges")
        others = [list(_values(d)) for i, d in enumerate(dims) if i != at]
        for fixed in itertools.product(*others):
            collected.setdefault((skeleton, fixed), []).extend(
                dims[at] if at >= 0 else ((0, 0, 0),)
            )
    return collected


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
    terms: list[_Term] = field(default_factory=list)
    # skeleton -> which of its numbers the ranges run over
    free: dict[_Skeleton, int] = field(default_factory=dict)
    # (skeleton, the other numbers) -> ranges of the free one
    ranges: dict[_Key, _Ranges] = field(default_factory=dict)
    count: int = 0

    @classmethod
    def parse(cls, texts: str | Iterable[str]) -> Hostlist:
        """One hostlist, or several (their union). UsageError (one line) when malformed,
        longer than MAX_CHARS or naming more than MAX_HOSTS hosts."""
        values = [texts] if isinstance(texts, str) else list(texts)
        whole = ",".join(values)
        if len(whole) > MAX_CHARS:
            raise UsageError(
                f"hostlist {_show(whole)}: longer than {MAX_CHARS >> 20} MiB ({len(whole)} "
                "characters)"
            )
        out = cls(whole)
        out.terms = _read_terms(values)
        boxes: dict[_Box, None] = {}
        for term in out.terms:
            _check_hosts(term, whole)
            for box in _boxes(term, whole):
                boxes.setdefault(box, None)
        out.free = _free_numbers(boxes)
        for key, pieces in _collect(boxes, out.free, whole).items():
            out.ranges[key] = _merge(pieces)
            out.count += _size(out.ranges[key])
            if out.count > MAX_HOSTS:
                raise UsageError(f"hostlist {_show(whole)} names more than {MAX_HOSTS} hosts")
        return out

    def __len__(self) -> int:
        return self.count

    def _locate(self, host: str) -> tuple[_Key, _Num] | None:
        skeleton, nums = _runs(host)
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
        return ranges is not None and _has(ranges, found[1])

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

    def _present(self, seen: Iterable[str]) -> tuple[dict[str, None], dict[_Key, list[_Num]]]:
        """The hosts of `seen` in this list (once each), and their numbers per range key."""
        present: dict[str, None] = {}
        removed: dict[_Key, list[_Num]] = {}
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

    def _without(self, removed: dict[_Key, list[_Num]]) -> str:
        """This list without the `removed` numbers, as a hostlist (one item per key)."""
        parts = []
        for (skeleton, fixed), ranges in self.ranges.items():
            left = _minus(ranges, removed.get((skeleton, fixed), ()))
            if not left:
                continue
            free = self.free[skeleton]
            if free < 0:
                parts.append(skeleton[0])
                continue
            numbers = [_fmt(v, w) for v, w in fixed]
            numbers.insert(free, _bracket_text(left))
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
