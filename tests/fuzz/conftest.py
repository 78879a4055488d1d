"""Every Hypothesis test of the fuzz suite runs each example under the CPU-time bound of
tests/fuzz/cpubound.py (the suite's settings carry no wall-clock deadline)."""

from __future__ import annotations

import pytest

from tests.fuzz.cpubound import bounded


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        handle = getattr(getattr(item, "obj", None), "hypothesis", None)
        inner = getattr(handle, "inner_test", None)
        if inner is not None and not getattr(inner, "_cpu_bounded", False):
            wrapped = bounded(inner)
            wrapped._cpu_bounded = True  # type: ignore[attr-defined]
            handle.inner_test = wrapped
