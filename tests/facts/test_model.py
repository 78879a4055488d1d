"""The Facts model's typed edges: what Facts.replace() takes is every top-level field."""

from __future__ import annotations

import dataclasses
import typing

from envlock.facts import Facts
from envlock.facts.model import FactsChanges


def test_facts_changes_names_every_field_with_its_type() -> None:
    hints = typing.get_type_hints(Facts)
    changes = typing.get_type_hints(FactsChanges)
    assert changes == {f.name: hints[f.name] for f in dataclasses.fields(Facts)}
