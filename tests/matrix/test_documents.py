"""The matrix files' TypedDicts (envlock/matrix/loader.py) name the keys the schema names:
a field added to the schema and the TOML, but not to the types, fails here."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from envlock.matrix import loader

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[2] / "schemas" / "matrix.schema.json").read_text()
)
TABLES = {
    "toolkit": loader.ToolkitEntry,
    "minor-floor": loader.MinorFloorEntry,
    "architecture": loader.ArchitectureEntry,
    "capability": loader.CapabilityEntry,
    "gpu": loader.GpuEntry,
    "torch": loader.TorchEntry,
    "cudnn": loader.CudnnEntry,
}


def _entry(table: str) -> dict[str, Any]:
    items: dict[str, Any] = SCHEMA["properties"][table]["items"]
    return items


@pytest.mark.parametrize("table", sorted(TABLES))
def test_entry_keys_are_the_schemas(table: str) -> None:
    assert set(TABLES[table].__annotations__) == set(_entry(table)["properties"])


def test_nested_entries_too() -> None:
    variant = _entry("torch")["properties"]["variant"]["items"]["properties"]
    assert set(loader.VariantEntry.__annotations__) == set(variant)
    cuda = _entry("cudnn")["properties"]["cuda"]["items"]["properties"]
    assert set(loader.CudaRangeEntry.__annotations__) == set(cuda)


def test_every_table_and_file_is_typed() -> None:
    tables = {t for t, v in SCHEMA["properties"].items() if v["type"] == "array"}
    assert tables == set(TABLES)
    assert set(loader.MatrixDocuments.__annotations__) == set(loader.FILES)
    per_file = {
        k for doc in loader.MatrixDocuments.__annotations__.values() for k in doc.__annotations__
    }
    assert per_file == set(SCHEMA["properties"])
