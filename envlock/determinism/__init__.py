"""Determinism: a seeded workload whose tensor digests go into the lock.

    suite.py    the workload, run by another interpreter (stdlib + torch only), served
                from memory with the stdlib-only modules it imports
    runner.py   runs it in a child process (no CUDA context in the caller) -> DeterminismFacts
    compare.py  locked vs fresh digests: which differences are expected (DEPENDS) and
                within tolerance (TOLERANCE), and run-to-run problems -> Findings

This module holds the constants of the suite and of the host that reads its
output (the suite imports them: it is served to the child with the suite), so
it imports the standard library alone and parses as Python 3.8.
"""

from __future__ import annotations

from collections.abc import Iterable

RESULT_MARK = "ENVLOCK-DETERMINISM-RESULT "
ERROR_MARK = "ENVLOCK-DETERMINISM-ERROR "
# "<i> <n> <class>": the suite is about to run its i-th class of n (each class runs twice)
PROGRESS_MARK = "ENVLOCK-DETERMINISM-CLASS "
SUITE_VERSION = 1
DEVICES = ("auto", "cpu", "cuda")
CLASSES = ("rng", "elementwise", "reduction", "matmul", "conv", "attention", "train")


def ordered(names: Iterable[str]) -> list[str]:
    """Class names in the suite's order, unknown ones (a newer suite) after them, sorted."""
    names = list(names)
    return [n for n in CLASSES if n in names] + sorted(n for n in names if n not in CLASSES)


def short_digest(digest: str) -> str:
    """'sha256:' and 12 hex digits: enough to tell digests apart in a table."""
    return digest[: len("sha256:") + 12]
