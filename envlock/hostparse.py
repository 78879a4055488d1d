"""Reading a Slurm hostlist's text (hostlist.py): its top-level items, their brackets, and
each item as boxes (a skeleton and one range set per number), checked against the
bounds before anything is expanded (pure)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from envlock.errors import UsageError
from envlock.hostranges import (
    MAX_DIGITS,
    Num,
    Ranges,
    Skeleton,
    count_of,
    merged,
    numbers_in,
    split_numbers,
    written,
)

# What a host name may hold besides the brackets: DNS labels, dots, underscores.
NAME = re.compile(r"^[A-Za-z0-9._-]*$")
BRACKET = re.compile(r"\[([^\[\]]*)\]")
# A hostlist naming more hosts than this is a typo (`[0-99999999]`), not a fleet.
MAX_HOSTS = 1_000_000
# Longer than any real --nodes value (10,000 nodes listed one by one are ~150 KB).
MAX_CHARS = 1 << 20
# Ranges next to other digits expanded, and separate ranges held, at most.
MAX_EXPANDED = 100_000
MAX_KEYS = 100_000

Box = tuple[Skeleton, tuple[Ranges, ...]]  # a skeleton, one range set per number
Key = tuple[Skeleton, tuple[Num, ...]]  # a skeleton, the values of all but its free number


# ------------------------------------------------------------------------ parsing
@dataclass(frozen=True, slots=True)
class Term:
    """One top-level item as written: literals around brackets, each bracket's ranges
    (lo, hi, width) in the order written (for `Hostlist.hosts()`)."""

    literals: tuple[str, ...]
    brackets: tuple[tuple[tuple[int, int, int], ...], ...]

    def _numbers(self, i: int) -> Iterator[str]:
        return (written(n, w) for lo, hi, w in self.brackets[i] for n in range(lo, hi + 1))

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


def show(text: str) -> str:
    return repr(text[:80]) + ("..." if len(text) > 80 else "")


def split_top(text: str) -> list[str]:
    """The comma-separated items outside brackets; brackets checked (none nested)."""
    items: list[str] = []
    depth, start = 0, 0
    for m in re.finditer(r"[\[\],]", text):
        c = m.group()
        if c == "[":
            depth += 1
            if depth > 1:
                raise UsageError(f"hostlist {show(text)}: nested '['")
        elif c == "]":
            depth -= 1
            if depth < 0:
                raise UsageError(f"hostlist {show(text)}: ']' without '['")
        elif depth == 0:
            items.append(text[start : m.start()])
            start = m.end()
    if depth:
        raise UsageError(f"hostlist {show(text)}: '[' is never closed")
    items.append(text[start:])
    if any(not i.strip() for i in items):
        raise UsageError(f"hostlist {show(text)}: an empty name")
    return [i.strip() for i in items]


def read_bracket(inner: str, text: str) -> tuple[tuple[int, int, int], ...]:
    out: list[tuple[int, int, int]] = []
    for piece in inner.split(","):
        piece = piece.strip()
        lo, sep, hi = piece.partition("-")
        hi = hi if sep else lo
        for d in (lo, hi):
            if not (d.isascii() and d.isdigit()):
                raise UsageError(
                    f"hostlist {show(text)}: [{inner[:40]}] is not a list of numbers and ranges"
                )
            if len(d) > MAX_DIGITS:
                raise UsageError(
                    f"hostlist {show(text)}: {d[:20]}... is not a node number "
                    f"(more than {MAX_DIGITS} digits)"
                )
        a, b = int(lo), int(hi)
        if b < a:
            raise UsageError(f"hostlist {show(text)}: range {piece} runs backwards")
        out.append((a, b, len(lo) if len(lo) > 1 and lo[0] == "0" else 0))
    return tuple(dict.fromkeys(out))  # a range repeated is read once


def canonical(lo: int, hi: int, width: int) -> list[tuple[int, int, int]]:
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


def read_term(item: str, text: str) -> Term:
    parts = BRACKET.split(item)  # literal, bracket, literal, bracket, ..., literal
    for literal in parts[::2]:
        if not NAME.match(literal):
            raise UsageError(f"hostlist {show(text)}: {show(literal)} is not a host name")
    return Term(tuple(parts[::2]), tuple(read_bracket(b, text) for b in parts[1::2]))


def boxes_of(term: Term, text: str) -> Iterator[Box]:
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
                f"hostlist {show(text)}: a range next to other digits is expanded, and this "
                f"one names more than {MAX_EXPANDED} hosts"
            )
    choices = [
        [written(n, w) for lo, hi, w in brackets[i] for n in range(lo, hi + 1)]
        if i in joined_at
        else [None]
        for i in range(len(brackets))
    ]
    for combo in itertools.product(*choices):
        texts = [""]
        dims: list[Ranges] = []
        pending = lits[0]
        for i, fixed in enumerate(combo):
            if fixed is not None:
                pending += fixed + lits[i + 1]
                continue
            add_text(pending, texts, dims)
            dims.append(merged(r for lo, hi, w in brackets[i] for r in canonical(lo, hi, w)))
            texts.append("")
            pending = lits[i + 1]
        add_text(pending, texts, dims)
        yield tuple(texts), tuple(dims)


def add_text(literal: str, texts: list[str], dims: list[Ranges]) -> None:
    """Append literal text to a skeleton being built: its digit runs are numbers of one value."""
    t, nums = split_numbers(literal)
    texts[-1] += t[0]
    for num, rest in zip(nums, t[1:], strict=True):
        dims.append(((num[1], num[0], num[0]),))
        texts.append(rest)


def read_terms(values: list[str]) -> list[Term]:
    """Every top-level item of every text, parsed; repeats dropped before anything."""
    terms: dict[Term, None] = {}
    for text in values:
        for item in split_top(text.strip()):
            terms.setdefault(read_term(item, text), None)
    return list(terms)


def check_hosts(term: Term, whole: str) -> None:
    """UsageError when the term alone names more than MAX_HOSTS hosts (counted on its
    ranges, bracket by bracket, before anything is expanded)."""
    hosts = 1
    for b in term.brackets:
        hosts *= count_of(merged(r for lo, hi, w in b for r in canonical(lo, hi, w)))
        if hosts > MAX_HOSTS:
            raise UsageError(f"hostlist {show(whole)} names more than {MAX_HOSTS} hosts")


def free_numbers(boxes: Iterable[Box]) -> dict[Skeleton, int]:
    """Per skeleton, the number the ranges run over: the one that varies most (the last
    on a tie); -1 for a skeleton without numbers."""
    spread: dict[Skeleton, list[int]] = {}
    for skeleton, dims in boxes:
        sizes = spread.setdefault(skeleton, [0] * len(dims))
        for i, d in enumerate(dims):
            sizes[i] += count_of(d)
    return {
        skeleton: max(range(len(sizes)), key=lambda i: (sizes[i], i), default=-1)
        for skeleton, sizes in spread.items()
    }


def collect_ranges(
    boxes: Iterable[Box], free: dict[Skeleton, int], whole: str
) -> dict[Key, list[tuple[int, int, int]]]:
    """The boxes' ranges of their free number, per key (skeleton, the other numbers);
    UsageError past MAX_KEYS keys."""
    collected: dict[Key, list[tuple[int, int, int]]] = {}
    for skeleton, dims in boxes:
        at = free[skeleton]
        keys = 1
        for i, d in enumerate(dims):
            keys *= count_of(d) if i != at else 1
        if len(collected) + keys > MAX_KEYS:
            raise UsageError(f"hostlist {show(whole)}: more than {MAX_KEYS} separate ranges")
        others = [list(numbers_in(d)) for i, d in enumerate(dims) if i != at]
        for fixed in itertools.product(*others):
            collected.setdefault((skeleton, fixed), []).extend(
                dims[at] if at >= 0 else ((0, 0, 0),)
            )
    return collected
