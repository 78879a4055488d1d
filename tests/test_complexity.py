"""Complexity, measured with radon as CI measures it: no function over {MAX_LINES} lines or
cyclomatic complexity over {MAX_CC} (issue 20), outside data tables and the self-contained
child suite. The functions over the limits when the target was set are listed with their
measure; each may only shrink, and comes off the list (the test says so) once it is
within the limits. A new function over the limits fails."""

from __future__ import annotations

from pathlib import Path

from radon.complexity import cc_visit

PACKAGE = Path(__file__).resolve().parent.parent / "envlock"
MAX_CC = 15
MAX_LINES = 60
# The child suite: the seeded workload, run under another interpreter (probe/_served.py).
EXEMPT_FILES = {"determinism/suite.py"}
# Declarations, not logic: a function that only lists argparse options.
DATA_TABLES = {"commands/_source.py::add_source_arguments"}

# name -> (complexity, lines) when the target was set; may only go down.
OVER_THE_LIMIT: dict[str, tuple[int, int]] = {}


def measure() -> dict[str, tuple[int, int]]:
    out: dict[str, tuple[int, int]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel in EXEMPT_FILES:
            continue
        for block in cc_visit(path.read_text()):
            if type(block).__name__ == "Class":
                continue
            name = f"{rel}::{block.fullname}"
            size = (block.complexity, block.endline - block.lineno + 1)
            out[name] = max(out.get(name, size), size)  # same name twice: the worse one
    return out


def over_limits(measured: dict[str, tuple[int, int]]) -> dict[str, tuple[int, int]]:
    return {
        name: (cc, lines)
        for name, (cc, lines) in measured.items()
        if (cc > MAX_CC or lines > MAX_LINES) and name not in DATA_TABLES
    }


def problems(
    measured: dict[str, tuple[int, int]],
    listed: dict[str, tuple[int, int]] = OVER_THE_LIMIT,
) -> list[str]:
    out = []
    for name, (cc, lines) in sorted(over_limits(measured).items()):
        if name not in listed:
            out.append(f"{name}: complexity {cc}, {lines} lines (limits {MAX_CC}, {MAX_LINES})")
            continue
        was_cc, was_lines = listed[name]
        if cc > max(was_cc, MAX_CC) or lines > max(was_lines, MAX_LINES):
            out.append(
                f"{name} grew: complexity {cc} (was {was_cc}), {lines} lines (was {was_lines})"
            )
    for name in sorted(listed.keys() - over_limits(measured).keys()):
        out.append(f"{name} is within the limits now (or gone): take it off OVER_THE_LIMIT")
    return out


def test_no_function_over_the_limits() -> None:
    assert problems(measure()) == []


def test_the_limits_fire() -> None:
    listed = {"a.py::big": (20, 70)}
    base = {"a.py::f": (3, 10), "a.py::big": (20, 70)}
    assert problems(base, listed) == []
    assert problems({**base, "a.py::g": (16, 10)}, listed) == [
        "a.py::g: complexity 16, 10 lines (limits 15, 60)"
    ]
    assert problems({**base, "a.py::h": (2, 61)}, listed) == [
        "a.py::h: complexity 2, 61 lines (limits 15, 60)"
    ]
    assert problems({**base, "a.py::big": (21, 70)}, listed) == [
        "a.py::big grew: complexity 21 (was 20), 70 lines (was 70)"
    ]
    assert problems({"a.py::f": (3, 10), "a.py::big": (15, 60)}, listed) == [
        "a.py::big is within the limits now (or gone): take it off OVER_THE_LIMIT"
    ]
