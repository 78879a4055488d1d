"""fleet report's summaries, node after node, with the sections a node shares with the one
before it reused (SectionFlattener, issue 23) against a fresh flatten of every node: the
same fields, in the same order, whatever each node adds, drops or changes (packages,
locked variables, the driver, the Python version), in any order of nodes."""

from __future__ import annotations

import dataclasses
import functools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envlock.facts import Facts, fast_facts
from envlock.fleet.compare import SectionFlattener, summarize
from tests.fleet.nodes import FIXTURE
from tests.fuzz.test_fuzz import EXAMPLES, FUZZ

pytestmark = pytest.mark.fuzz

SECTIONS_FUZZ = settings(FUZZ, deadline=None, max_examples=max(50, EXAMPLES // 4))


@functools.cache
def _base() -> Facts:
    facts = fast_facts(FIXTURE.read_bytes())
    assert facts is not None
    return facts


texts = st.sampled_from(["1.0", "2.0", "2.0.0", "", "1", "a\udcffb", "é"])
edits = st.fixed_dictionaries(
    {
        "packages": st.dictionaries(st.sampled_from(["numpy", "torch", "six", "p.q"]), texts),
        "drop": st.lists(st.sampled_from(["torch", "nvidia-nccl-cu13", "absent"])),
        "env": st.dictionaries(st.sampled_from(["NCCL_DEBUG", "CUDA_VISIBLE_DEVICES"]), texts),
        "driver": st.sampled_from([None, "570.86.15", "580.65.06"]),
        "python": st.sampled_from([None, "3.12.1"]),
    }
)


def _node(e: dict[str, object]) -> Facts:
    """The recorded node with one node's edits."""
    base = _base()
    dists = {**base.packages.distributions, **e["packages"]}  # type: ignore[dict-item]
    for name in e["drop"]:  # type: ignore[attr-defined]
        dists.pop(name, None)
    env = {**base.env.variables, **e["env"]}  # type: ignore[dict-item]
    facts = dataclasses.replace(
        base,
        packages=dataclasses.replace(base.packages, distributions=dists),
        env=dataclasses.replace(base.env, variables=env),
    )
    if e["driver"] is not None:
        facts = dataclasses.replace(
            facts, driver=dataclasses.replace(facts.driver, version=e["driver"])
        )
    if e["python"] is not None and facts.system.python is not None:
        py = dataclasses.replace(facts.system.python, version=e["python"])
        facts = dataclasses.replace(facts, system=dataclasses.replace(facts.system, python=py))
    return facts


@SECTIONS_FUZZ
@given(st.lists(edits, min_size=1, max_size=6), st.sampled_from(["full", "software"]))
def test_reused_sections_summarize_as_a_fresh_flatten(
    nodes: list[dict[str, object]], scope: str
) -> None:
    flattener = SectionFlattener(scope)
    for rank, e in enumerate(nodes):
        facts = _node(e)
        fresh = summarize(rank, "h", facts, [], scope).fields
        reused = summarize(rank, "h", facts, [], scope, flattener=flattener).fields
        assert reused == fresh
        assert list(reused) == list(fresh)
