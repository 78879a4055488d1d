"""The paste readers' fuzz harness: the strategies and checks that the fuzz files of other
tools' printouts share (test_fuzz_framework_reports.py, test_fuzz_torch_own_checks.py,
test_fuzz_tool_reports.py; the adversarial lines of test_fuzz_built_for.py,
test_fuzz_torch_floor.py and test_fuzz_paste_layout.py).

A reader's fuzz file names its real lines and the pieces pastes mangle them with; from them
come random compositions of the real lines (`real_lines`), up to MANGLED_LINES of them
mangled (`cut_list`, `mangle`), a whole report's lines edited (`edit_lines`: test_pasted_fuzz.py,
test_fuzz_d2table.py) and any text (`ANY_TEXT`); each example runs within the
suite's CPU bound per example (tests/fuzz/cpubound.py, applied by tests/fuzz/conftest.py).
`assert_in_bound` is the CPU-bounded read of one adversarial line (context + fragment * n +
tail, tests/fuzz/test_pasted_adversarial.py): each reader within `BOUND_S` of CPU, a run past
the hard stop ended by an assertion. tests/fuzz/test_pastes.py shows both bounds fail a
quadratic reader.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Sequence

from hypothesis import settings
from hypothesis import strategies as st

from envlock.checks import run_checks
from envlock.errors import FactsError
from envlock.facts import Facts
from envlock.pasted import facts_from_texts
from tests.fuzz.test_fuzz import EXAMPLES, FUZZ
from tests.fuzz.test_pasted_adversarial import BOUND_S, MB, line_of, seconds

# the examples of a reader's properties (a third of the suite's depth, at least 10)
PASTE = settings(FUZZ, deadline=None, max_examples=max(10, EXAMPLES // 3))
# how many real lines a mangled text holds at the most, and how many cuts mangle them
MANGLED_LINES = 12
# any text a paste may hold, of at most 600 characters
ANY_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=600)

Reader = Callable[[str], object]
# (context, fragment, tail): the state a pattern runs in, its repeated piece, a failing end
Case = tuple[str, str, str]


def lines_of(texts: Sequence[str]) -> list[str]:
    """The texts' lines that hold more than blanks, once each, sorted."""
    return sorted({line for text in texts for line in text.split("\n") if line.strip()})


def real_lines(lines: Sequence[str], max_size: int) -> st.SearchStrategy[list[str]]:
    """One to `max_size` of the real lines, in any order, repeats allowed."""
    return st.lists(st.sampled_from(lines), min_size=1, max_size=max_size)


def cut_list(
    pieces: st.SearchStrategy[str], reach: int
) -> st.SearchStrategy[list[tuple[int, int, str]]]:
    """Up to MANGLED_LINES cuts for `mangle`: (a line, an offset up to `reach`, a piece put
    there)."""
    cut = st.tuples(st.integers(0, MANGLED_LINES - 1), st.integers(0, reach), pieces)
    return st.lists(cut, max_size=MANGLED_LINES)


def mangle(lines: list[str], cuts: list[tuple[int, int, str]]) -> str:
    """The lines with each cut's piece put in at its offset (in place), joined."""
    for index, at, piece in cuts:
        i = index % len(lines)
        lines[i] = lines[i][:at] + piece + lines[i][at:]
    return "\n".join(lines)


Edit = Callable[[st.DrawFn, list[str], int], None]


def _drop(draw: st.DrawFn, lines: list[str], i: int) -> None:
    del lines[i]


def _dup(draw: st.DrawFn, lines: list[str], i: int) -> None:
    lines.insert(i, lines[i])


def _cut(draw: st.DrawFn, lines: list[str], i: int) -> None:
    lines[i] = lines[i][: draw(st.integers(min_value=0, max_value=len(lines[i])))]


def _replace(draw: st.DrawFn, lines: list[str], i: int) -> None:
    lines[i] = draw(st.text(max_size=80))


# what happens to a report's lines on their way to a paste: one dropped, doubled, cut short
# or replaced by random text (a file's own edits follow these in its table)
LINE_EDITS: dict[str, Edit] = {"drop": _drop, "dup": _dup, "cut": _cut, "replace": _replace}


def edit_lines(draw: st.DrawFn, lines: list[str], most: int, edits: dict[str, Edit]) -> str:
    """A real report's lines after up to `most` edits drawn from `edits`, joined."""
    for _ in range(draw(st.integers(min_value=0, max_value=most))):
        if not lines:
            break
        i = draw(st.integers(min_value=0, max_value=len(lines) - 1))
        edits[draw(st.sampled_from(list(edits)))](draw, lines, i)
    return "\n".join(lines)


def read_or_refuse(text: str) -> Facts | None:
    """The paste read as a report: Facts the checks run over, whose torch version (if read)
    is one the text holds; or None where it was refused in one FactsError line."""
    try:
        facts = facts_from_texts(collect_env=text)
    except FactsError as e:
        assert "\n" not in str(e)
        return None
    run_checks(facts)
    if facts.torch.version is not None:
        assert facts.torch.version in text
    return facts


def checked(text: str) -> None:
    """The paste read as a report and checked: Facts or a FactsError, never a traceback."""
    with contextlib.suppress(FactsError):
        run_checks(facts_from_texts(collect_env=text))


def assert_in_bound(
    readers: Sequence[Reader], line: str, what: str, bound_s: float = BOUND_S
) -> None:
    """Each reader on the line within `bound_s` of CPU (tests/fuzz/test_pasted_adversarial.py's
    `seconds`): a super-linear reader fails here."""
    slow = {}
    for reader in readers:
        took = seconds(lambda r=reader: r(line), f"{_name(reader)} on {what}")  # type: ignore[misc]
        if took >= bound_s:
            slow[_name(reader)] = round(took, 2)
    assert slow == {}, f"over {bound_s:g} s of CPU on {what}: {slow}"


def adversarial_line(case: Case, size: int = MB) -> str:
    """The case's line of `size` characters (1 MB unless told)."""
    return line_of(*case, size)


def _name(reader: Reader) -> str:
    if isinstance(reader, functools.partial):
        return f"{_name(reader.func)}{reader.args!r}"
    return getattr(reader, "__name__", repr(reader))
