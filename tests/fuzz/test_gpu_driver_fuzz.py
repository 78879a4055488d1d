"""The matrix's GPU-driver rules on random machines (issue 21 items 2 and 6): for any
set of GPU capabilities and any driver, a build judged to run never needs a driver the
GPUs cannot have, and every driver the remedy names exists for every GPU (no branch past
an architecture's last, none older than its first)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envlock.matrix import Version, load_matrix
from envlock.matrix.advice import evaluate, remedy
from tests.fuzz.test_fuzz import EXAMPLES, FUZZ

pytestmark = pytest.mark.fuzz

M = load_matrix()
CAPS = sorted({c.sm for c in M.capabilities if not c.tegra})
DRIVERS = sorted({t.linux for t in M.toolkits} | {Version((b, 0)) for b in (340, 390, 470, 580)})

caps_st = st.lists(st.sampled_from(CAPS), min_size=1, max_size=3, unique=True)
driver_st = st.one_of(
    st.sampled_from(DRIVERS),
    st.tuples(st.integers(300, 620), st.integers(0, 200)).map(Version),
)


@settings(FUZZ, deadline=None, max_examples=min(EXAMPLES, 60))
@given(caps=caps_st, driver=driver_st)
def test_runs_and_roads_respect_each_architectures_branches(
    caps: list[Version], driver: Version
) -> None:
    fits = evaluate(M, capabilities=caps, driver=driver, python=None)
    for f in fits:
        if f.runs:  # a build that runs here: the driver serves every GPU
            assert all(M.driver_gpu_problem(driver, cc, "linux") is None for cc in caps), f
        if f.driver_needed is not None:
            need = f.driver_needed
            assert need > driver
            assert M.driver_exists_for(need, caps, "linux"), (caps, driver, need)
            assert all(M.driver_gpu_problem(need, cc, "linux") is None for cc in caps)
    r = remedy(fits, installed=None, installed_variant=None)
    if r.driver_at_least is not None:
        assert M.driver_exists_for(r.driver_at_least, caps, "linux")


@settings(FUZZ, deadline=None, max_examples=min(EXAMPLES, 60))
@given(caps=caps_st)
def test_driver_unknown_never_promises_a_driver_past_the_last_branch(caps: list[Version]) -> None:
    for f in evaluate(M, capabilities=caps, driver=None, python=None):
        if f.runs_if_driver:
            assert f.needs_driver is not None
            assert M.driver_exists_for(f.needs_driver, caps, "linux"), (caps, f.variant.name)
