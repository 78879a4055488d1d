"""fleet report's summaries reuse the flattened sections a node shares with the node before
it (issue 23: 10,000 nodes with another numpy each flattened 10,000 whole locks): the
fields are the ones a fresh flatten gives, node after node, whatever changed."""

from __future__ import annotations

from pathlib import Path

from envlock.facts import Facts
from envlock.fleet.compare import SectionFlattener, summarize
from envlock.fleet.files import _decode, _read
from tests.fleet.nodes import OLD_DRIVER, write_fleet

DRIFTS = {
    1: [("packages.distributions.numpy", "2.1.0")],
    2: [("packages.distributions.only-on-2", "1.0")],
    3: [("driver.version", OLD_DRIVER)],
    5: [("env.variables.NCCL_DEBUG", "INFO"), ("packages.distributions.numpy", "2.5.0")],
    6: [("system.python_version", "3.12.1")],
}


def _facts(tmp_path: Path, count: int) -> list[Facts]:
    names = write_fleet(tmp_path, count, DRIFTS)
    return [_decode(tmp_path / f"{n}.json", _read(tmp_path / f"{n}.json")) for n in names]


def test_reused_sections_give_the_fields_a_fresh_flatten_gives(tmp_path: Path) -> None:
    for scope in ("full", "software"):
        flattener = SectionFlattener(scope)
        for rank, facts in enumerate(_facts(tmp_path, 8)):
            fresh = summarize(rank, "h", facts, [], scope)
            reused = summarize(rank, "h", facts, [], scope, flattener=flattener)
            assert reused.fields == fresh.fields, (scope, rank)
            assert list(reused.fields) == list(fresh.fields)  # the same order too


def test_a_section_equal_to_the_last_nodes_is_not_flattened_again(tmp_path: Path) -> None:
    first, numpy_node = _facts(tmp_path, 2)
    flattener = SectionFlattener("full")
    a = summarize(0, "a", first, [], "full", flattener=flattener).fields
    b = summarize(1, "b", numpy_node, [], "full", flattener=flattener).fields
    assert "packages.numpy" not in a
    # the torch section is the same objects (not walked again); packages were walked
    assert a["torch.version"] is b["torch.version"]
    assert b["packages.numpy"] == "2.1.0"


def test_a_table_of_text_flattens_as_the_walk_does(tmp_path: Path) -> None:
    """packages and env, the sections that differ node by node, skip flatten's walk: the
    same keys, values and order; any other section is left to the walk."""
    from envlock.fleet.compare import _text_table
    from envlock.lock import build_lock, flatten
    from envlock.lock.flatten import compared_sections

    facts = _facts(tmp_path, 6)[5]  # NCCL_DEBUG set: a locked variable
    lock = build_lock(facts, scope="full", created="-", lockable=False)
    keys = frozenset(key for _, key in compared_sections("full"))
    for key in ("packages", "env"):
        walked = flatten(lock, without=keys - {key})
        assert walked  # this node has packages and a locked variable
        table = _text_table(getattr(lock, key), key)
        assert table == walked and list(table or ()) == list(walked)
    assert _text_table(lock.torch, "torch") is None
    assert _text_table({"a": 1}, "x") is None
