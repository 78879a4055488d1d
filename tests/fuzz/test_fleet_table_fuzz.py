"""The fleet's comparison (kinds of node held as deltas from the first kind, issue 23
item 3) against the plain nodes x fields comparison it replaced, on random fleets: the
same fields diverge, with the same value groups, the same ranks in each (a long tail's
absent ranks counted, not listed) and the same majority value. Values that compare equal
but print differently (1, 1.0, True, "1") and None (a field a node lacks) included."""

from __future__ import annotations

from collections import defaultdict

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from envlock.fleet import RankSummary, compare_ranks
from tests.fuzz.test_fuzz import EXAMPLES, FUZZ

pytestmark = pytest.mark.fuzz

TABLE_FUZZ = settings(FUZZ, deadline=None, max_examples=max(100, EXAMPLES // 3))

# a few sections, so that some of them reach the long tail's 10 fields and some do not
names = st.sampled_from(
    [f"packages.p{i}" for i in range(14)] + [f"env.V{i}" for i in range(4)] + ["driver.version"]
)
values = st.sampled_from([None, 1, 1.0, True, "1", "2", "", ["a"], ["a", "b"], 0, False])
fields = st.dictionaries(names, values, max_size=16)


@st.composite
def fleets(draw: st.DrawFn) -> list[RankSummary]:
    """Ranks on a few hosts; some share one fields table (files of one kind do)."""
    shared = draw(st.lists(fields, min_size=1, max_size=4))
    out = []
    for rank in range(draw(st.integers(1, 30))):
        own = draw(st.one_of(st.sampled_from(shared), fields))
        host = draw(st.sampled_from(["a", "b", "c", "n1", "n2"]))
        out.append(RankSummary(rank=rank, host=host, fields=own))
    return out


def _reference(summaries: list[RankSummary]) -> dict[str, dict[str, list[int]]]:
    """Field -> value repr -> ranks, for every field not the same on every rank: each rank
    looked at for each field (what the comparison did before issue 23)."""
    out = {}
    for name in {k for s in summaries for k in s.fields}:
        groups: dict[str, list[int]] = defaultdict(list)
        for s in summaries:
            groups[repr(s.fields.get(name))].append(s.rank)
        if len(groups) > 1:
            out[name] = dict(groups)
    return out


@TABLE_FUZZ
@given(fleets())
def test_the_table_finds_what_every_rank_by_every_field_finds(
    summaries: list[RankSummary],
) -> None:
    expected = _reference(summaries)
    found = {f.field: f for f in compare_ranks(summaries) if f.check_id == "EL-FLEET-DIVERGENT"}
    event(f"long tail: {any('absent' in f.evidence for f in found.values())}")
    assert set(found) == set(expected)
    for name, groups in expected.items():
        f = found[name]
        values = f.evidence["values"]
        absent = f.evidence.get("absent")
        shown = {k: v for k, v in groups.items() if not (absent is not None and k == "None")}
        assert values == shown  # ranks in rank order
        assert list(values) == sorted(shown, key=lambda k: (-len(shown[k]), k))[: len(values)]
        if absent is not None:  # a long tail: most ranks lack the field
            assert absent == len(groups["None"]) == max(len(v) for v in groups.values())
            assert f.observed is None
        majority = min(groups, key=lambda k: (-len(groups[k]), k))
        assert repr(f.observed) == majority
        assert f.evidence["hosts"] == {
            k: sorted({summaries[r].host for r in groups[k]}) for k in values
        }
