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

`ReaderFuzz` is a reader's fuzz file declared: its readers, real lines, mangling pieces and
invariants; its methods build the four tests every such file holds (real lines in any order,
mangled lines, any text, long adversarial lines), which the file binds to its own test names
(test_fuzz_prose.py is the model).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
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


Test = Callable[..., None]


@dataclass(frozen=True)
class ReaderFuzz:
    """One paste reader's fuzz file: the readers (each held to the CPU bound on the adversarial
    lines and, unless `holds` says otherwise, run on every drawn text), the real lines their
    texts are composed of, the pieces that mangle them and the reader's own invariants."""

    readers: tuple[Reader, ...]
    lines: Sequence[str]
    pieces: st.SearchStrategy[str]
    # how many real lines a composition holds at the most; how far into a line a cut goes
    most: int = 30
    reach: int = 200
    # the readers' invariants on any drawn text (they run the readers themselves)
    holds: Callable[[str], None] | None = None
    # invariants on the Facts a composition of real lines is read to, and that text
    holds_facts: Callable[[Facts, str], None] | None = None

    def read(self, text: str) -> None:
        """The text through the readers, held to their invariants."""
        if self.holds is not None:
            self.holds(text)
            return
        for reader in self.readers:
            reader(text)

    def real_lines_test(self) -> Test:
        """Real lines in any order: the readers' invariants, then read as a report
        (`read_or_refuse`) with the Facts held to `holds_facts`."""

        def test(lines: list[str]) -> None:
            text = "\n".join(lines)
            self.read(text)
            facts = read_or_refuse(text)
            if facts is not None and self.holds_facts is not None:
                self.holds_facts(facts, text)

        return self._given(test, "real_lines", lines=real_lines(self.lines, self.most))

    def mangled_lines_test(self) -> Test:
        """Up to MANGLED_LINES real lines with pieces put in: the readers' invariants, then
        `checked`."""

        def test(lines: list[str], cuts: list[tuple[int, int, str]]) -> None:
            text = mangle(lines, cuts)
            self.read(text)
            checked(text)

        lines = real_lines(self.lines, MANGLED_LINES)
        return self._given(test, "mangled", lines=lines, cuts=cut_list(self.pieces, self.reach))

    def any_text_test(self) -> Test:
        """Any text (ANY_TEXT): the readers' invariants, then `checked`."""

        def test(text: str) -> None:
            self.read(text)
            checked(text)

        return self._given(test, "any_text", text=ANY_TEXT)

    def adversarial_test(
        self, cases: Sequence[Case], line: Callable[[Case], str] | None = None
    ) -> Test:
        """Each case's 1 MB line (or what `line` makes of the case) read by every reader within
        the CPU bound (`assert_in_bound`)."""
        text_of = line or adversarial_line

        @pytest.mark.parametrize("case", cases, ids=lambda c: repr(c[1])[:24])
        def test_a_long_adversarial_line_stays_in_bound(case: Case) -> None:
            assert_in_bound(self.readers, text_of(case), repr(case))

        return test_a_long_adversarial_line_stays_in_bound

    def _given(self, test: Test, kind: str, **strategies: st.SearchStrategy[object]) -> Test:
        # Hypothesis keys its example database (and its derandomized seed) on a test's source,
        # the same for every file's test of one kind: the file's lines tell them apart
        digest = hashlib.sha256("\n".join([kind, *self.lines]).encode()).digest()
        test._hypothesis_internal_add_digest = digest  # type: ignore[attr-defined]
        test.__name__ = test.__qualname__ = f"test_{kind}"
        return PASTE(given(**strategies)(test))  # type: ignore[no-any-return]
