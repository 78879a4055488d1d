"""fleet report's split (issue 23 item 3): a table filled by a forked reader, merged after
this process's (`split.Part.merge`, each kind's delta rebased onto this table's first
kind), against one table filled with every node in order: the same kinds, deltas,
members and findings, whatever fields the nodes hold, lack or disagree on."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envlock.fleet.compare import FleetTable, Value, compare_table
from envlock.fleet.split import Part
from tests.fuzz.test_fuzz import EXAMPLES, FUZZ

pytestmark = pytest.mark.fuzz

SPLIT_FUZZ = settings(FUZZ, deadline=None, max_examples=max(50, EXAMPLES // 2))

# values whose reprs differ though some compare equal (1, 1.0, True), lists, and None
values = st.sampled_from(["1", "2", "", 1, 1.0, True, ["a"], ["a", "b"], None])
nodes = st.lists(
    st.dictionaries(st.sampled_from(["a", "b.c", "d", "e.f", "g"]), values, max_size=5),
    min_size=1,
    max_size=12,
)


def _part(rows: list[dict[str, Value]], first: int) -> Part:
    part = Part()
    for rank, fields in enumerate(rows):
        host = f"node-{first + rank}"
        part.table.add(rank, host, fields, [])
        part.read.append((host, f"{host}.json"))
    return part


def _kinds(table: FleetTable) -> list[tuple[object, ...]]:
    return [(repr(sorted(k.delta.items())), k.findings, k.members) for k in table.kinds]


@SPLIT_FUZZ
@given(nodes, nodes)
def test_a_merged_table_is_the_table_of_every_node(
    first: list[dict[str, Value]], later: list[dict[str, Value]]
) -> None:
    whole = _part(first + later, 0)
    merged = _part(first, 0)
    merged.merge(_part(later, len(first)))
    assert _kinds(merged.table) == _kinds(whole.table)
    assert merged.table.ranks == whole.table.ranks and merged.read == whole.read
    assert [f.to_dict() for f in compare_table(merged.table)] == [
        f.to_dict() for f in compare_table(whole.table)
    ]


@SPLIT_FUZZ
@given(nodes)
def test_a_part_that_read_nothing_takes_the_later_ones_table(
    later: list[dict[str, Value]],
) -> None:
    whole = _part(later, 0)
    merged = Part()
    merged.merge(_part(later, 0))
    assert _kinds(merged.table) == _kinds(whole.table)
    assert [f.to_dict() for f in compare_table(merged.table)] == [
        f.to_dict() for f in compare_table(whole.table)
    ]
