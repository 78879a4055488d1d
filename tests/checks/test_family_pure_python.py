"""A family member series with no compiled extension pairs with any torch (issue 21).

torchvision before 0.3 was pure Python: its wheels are py2.py3-none-any with no _C
library and a Requires-Dist of plain `torch`; 0.3.0 is the first series with C++ ops
(torchvision/_C.so, `torch (>=1.1.0)`). The real report that showed the false error
(torch-points3d#66: torch 1.1.0 beside torchvision 0.2.0, CUDA working) is read as
pasted; a compiled series of another release stays a mismatch.
"""

from __future__ import annotations

import pytest

from envlock.checks import run_checks
from envlock.findings import Finding
from envlock.matrix.family import load_family, parse_family
from envlock.matrix.loader import MatrixError
from envlock.matrix.versions import Version
from envlock.pasted import facts_from_texts
from tests.conftest import FIXTURES

REPORT = FIXTURES / "collect_env" / "torch-points3d-66.txt"


def _family(text: str) -> list[Finding]:
    facts = facts_from_texts(collect_env=text)
    return [f for f in run_checks(facts) if f.check_id == "EL-FAMILY-MISMATCH"]


def test_pure_python_torchvision_beside_torch_11_is_no_mismatch() -> None:
    text = REPORT.read_text()
    assert "[pip3] torchvision==0.2.0" in text and "[pip3] torch==1.1.0" in text
    assert _family(text) == []


def test_a_compiled_torchvision_of_another_release_still_fires() -> None:
    """The same report with torchvision 0.4.0 (built for torch 1.2/1.3): a mismatch."""
    text = REPORT.read_text().replace("torchvision==0.2.0", "torchvision==0.4.0")
    (f,) = _family(text)
    assert "torchvision 0.3.x is the release for torch 1.1" in f.message


@pytest.mark.parametrize("torch", ["1.0.1", "1.1.0", "1.4.0", "2.14.1"])
def test_every_pure_python_series_pairs_with_any_torch(torch: str) -> None:
    family = load_family()
    for have in ("0.1.9", "0.2.0", "0.2.2.post3"):
        assert family.pairs("torchvision", Version.parse(have), Version.parse(torch))
    assert not family.pairs("torchvision", Version.parse("0.3.0"), Version.parse("1.4.0"))


def test_the_pure_python_table_is_sourced() -> None:
    sources = {"TVPY"}
    row = {"torch": "1.0", "torchvision": "0.2", "source": ["TVPY"]}
    family = parse_family(
        {"family": [row], "pure_python": {"torchvision": {"before": "0.3", "source": ["TVPY"]}}},
        sources,
    )
    assert family.pure_python == {"torchvision": Version.parse("0.3")}
    with pytest.raises(MatrixError, match=r"pure_python\.torchvision\.source"):
        parse_family({"family": [row], "pure_python": {"torchvision": {"before": "0.3"}}}, sources)
    with pytest.raises(MatrixError, match="not a family member"):
        parse_family(
            {"family": [row], "pure_python": {"torchdata": {"before": "0.1", "source": ["TVPY"]}}},
            sources,
        )
