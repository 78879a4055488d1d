"""The fuzz suite's per-example bound counts CPU, not wall time (tests/fuzz/cpubound.py)."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.fuzz.cpubound import bounded


def _burn(seconds: float) -> None:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def test_an_example_that_burns_cpu_past_the_bound_fails() -> None:
    with pytest.raises(AssertionError, match="of CPU"):
        bounded(lambda: _burn(0.2), bound_s=0.05)()


def test_an_example_that_waits_passes_however_long_the_wall_clock() -> None:
    # what a loaded machine does to an example: wall time passes, CPU does not
    assert bounded(lambda: time.sleep(0.3) or "done", bound_s=0.05)() == "done"


@settings(max_examples=3, deadline=None)
@given(st.integers(min_value=0, max_value=3))
def test_the_suite_wraps_every_hypothesis_test(n: int) -> None:
    # tests/fuzz/conftest.py replaced this test's inner test by the bounded one
    inner = test_the_suite_wraps_every_hypothesis_test.hypothesis.inner_test
    assert inner._cpu_bounded
