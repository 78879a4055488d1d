"""A matrix row held to its wheel fatbin by fatbin (tests/matrix/fatbins.py): torch's own
kernels are the fatbins holding exactly the row's targets, and a PTX target the row does not
list is accepted only where every fatbin carrying it holds SASS the row does not list (a
library linked in with its own targets). Records: tests/fixtures/wheel.*-fatbins-recorded.json,
re-read from the wheel wherever it is reachable (tests/matrix/test_real_wheels.py's folders).
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from envlock.matrix import Version, load_matrix
from tests.conftest import FIXTURES
from tests.matrix.fatbins import fatbin_groups, foreign_ptx
from tests.matrix.test_real_wheels import _sha256, reachable_wheels


def _records() -> list[Path]:
    return sorted(FIXTURES.glob("wheel.torch-*-fatbins-recorded.json"))


def _row_targets(record: dict[str, Any]) -> tuple[set[str], set[str]]:
    v = load_matrix().torch_variant(Version.parse(record["version"]), Version.parse(record["cuda"]))
    assert v is not None and v.targets is not None, record["version"]
    return {str(t) for t in v.targets if not t.ptx}, {str(t) for t in v.targets if t.ptx}


@pytest.mark.parametrize("path", _records(), ids=lambda p: p.name)
def test_the_row_is_the_wheels_own_kernels(path: Path) -> None:
    record = json.loads(path.read_text())
    sass, ptx = _row_targets(record)
    groups = record["groups"]
    # torch's own units: the most frequent target set, exactly the row's
    assert (set(groups[0]["sass"]), set(groups[0]["ptx"])) == (sass, ptx)
    every_ptx = {p for g in groups for p in g["ptx"]}
    assert every_ptx - ptx <= foreign_ptx(groups, sass), sorted(every_ptx - ptx)


def test_1_2_cu100_compute_75_comes_with_sm_30() -> None:
    """1.2.0's libtorch.so holds compute_75 PTX (WHP) only in 8 fatbins that also hold
    sm_30 SASS, a target no 1.2 TORCH_CUDA_ARCH_LIST names (B12)."""
    record = json.loads((FIXTURES / "wheel.torch-1.2.0-cu100-fatbins-recorded.json").read_text())
    carrying = [g for g in record["groups"] if "compute_75" in g["ptx"]]
    assert [g["count"] for g in carrying] == [8]
    assert all("sm_30" in g["sass"] for g in carrying)
    sass, _ = _row_targets(record)
    assert foreign_ptx(record["groups"], sass) == {"compute_75"}


def _reachable() -> list[Any]:
    """(wheel, its fatbins record) for each recorded wheel found here, matched by name
    (cheap) and then by sha256."""
    records = {json.loads(p.read_text())["wheel"]: p for p in _records()}
    found = []
    for w in reachable_wheels():
        record = records.get(w.name)
        if record and _sha256(w) == json.loads(record.read_text())["sha256"]:
            found.append(pytest.param(w, record, marks=pytest.mark.slow, id=w.name))
    return found


@pytest.mark.parametrize(("wheel_path", "record_path"), _reachable())
def test_a_reachable_wheel_gives_its_recorded_groups(
    wheel_path: Path, record_path: Path, tmp_path: Path
) -> None:
    record = json.loads(record_path.read_text())
    with zipfile.ZipFile(wheel_path) as z:
        lib = z.extract(record["library"], tmp_path)
    assert fatbin_groups(lib) == record["groups"]
