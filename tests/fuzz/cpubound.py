"""The fuzz suite's time bound per example, in CPU seconds of the thread that runs it.

A super-linear path on hostile input (a quadratic regular expression, a scan that restarts)
burns CPU and fails here, not at a user's. A machine loaded by other work (CI's parallel
workers, other jobs on the same cores) stretches an example's wall time, not its CPU time:
Hypothesis's own deadline, which is wall time, failed a 1 ms parse at 2.6 s on a machine
at load 10 (tests/fuzz/test_pasted_fuzz.py, fresh-clone CI, session 8). So the suite's
settings carry no wall deadline (deadline=None) and tests/fuzz/conftest.py wraps every
Hypothesis test's inner test with `bounded`.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

# the bound of every fuzz example (the 2 s the suite's deadline was)
CPU_BOUND_S = 2.0


def bounded(test: Callable[..., Any], bound_s: float = CPU_BOUND_S) -> Callable[..., Any]:
    """`test`, failing when one call spends more than `bound_s` seconds of its thread's CPU."""

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> Any:
        start = time.thread_time()
        result = test(*args, **kwargs)
        spent = time.thread_time() - start
        assert spent <= bound_s, (
            f"one example took {spent:.2f} s of CPU (bound {bound_s:g} s): "
            "a super-linear path on this input"
        )
        return result

    return run
