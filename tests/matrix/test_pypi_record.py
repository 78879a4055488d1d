"""torch.toml's release fields held to what PyPI states (source PJ), offline.

tests/fixtures/pypi.torch-releases-recorded.json is what `python -m tests.matrix.record_pypi`
read from PyPI: each release line's Linux x86_64 CPython tags, the X.Y.0 files'
Requires-Python, and torch.version.cuda inside the X.Y.0 wheel (the default variant).
"""

from __future__ import annotations

from typing import Any

import pytest

from envlock.matrix import Version, load_matrix
from tests.conftest import load_fixture_json

RECORD: dict[str, Any] = load_fixture_json("pypi.torch-releases-recorded.json")["releases"]


def _tags(line: dict[str, Any]) -> list[Version]:
    """Python 3's minors (1.0-1.4 have cp27 wheels too: the range is kept for Python 3)."""
    tags = {Version.parse(t) for tags in line["python_tags"].values() for t in tags}
    return sorted(t for t in tags if t.major == 3)


def test_the_record_covers_every_release() -> None:
    assert set(RECORD) == {str(r.release) for r in load_matrix().torch}


@pytest.mark.parametrize("release", sorted(RECORD, key=Version.parse))
def test_release_fields_match_pypi(release: str) -> None:
    line = RECORD[release]
    row = load_matrix().torch_release(Version.parse(release))
    assert row is not None
    tags = _tags(line)
    assert (row.python_min, row.python_max) == (tags[0], tags[-1])
    (requires,) = line["requires_python"]  # one value over the X.Y.0 files
    assert row.requires_python == (requires or None)
    cuda = Version.parse(line["default_cuda"]).truncate(2)
    assert row.default_variant == f"cu{cuda.major}{cuda.minor}"
    assert row.variant(row.default_variant) is not None
    assert "PJ" in row.source and not row.unverified


def test_torch_1_1_on_pypi_is_the_cuda_9_build() -> None:
    """The one default the old table had wrong: 1.1.0's PyPI wheel is CUDA 9.0 (cu90)."""
    assert RECORD["1.1"]["default_cuda"].startswith("9.0.")
    row = load_matrix().torch_release(Version.parse("1.1"))
    assert row is not None and row.default_variant == "cu90"
