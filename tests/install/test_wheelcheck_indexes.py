"""The wheel check reads the index pytorch.org's install command names for the release and
build (matrix/indexes.toml through family.index_for), never an invented one: AMD's
+rocm6.2.3 build of torch 2.3.0 has no download.pytorch.org index (legacy-rocm-build-4729),
torch 1.8.2's builds are on the LTS index (whl/lts/1.8/<tag>), and releases the page installs
with `-f .../torch_stable.html` have no PEP 691 index to read. The index is the fake on
127.0.0.1 (tests/install/fakeindex.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from envlock.install.wheelcheck import confirm_torch_wheel
from tests.install.fakeindex import FakeIndex, torch_wheel_index

WHEELS = [
    "torch-2.3.1+rocm6.0-cp311-cp311-linux_x86_64.whl",
    "torch-1.8.2+cu111-cp38-cp38-linux_x86_64.whl",
    "torch-2.3.0+rocm6.2.3-cp311-cp311-linux_x86_64.whl",
    "torch-1.9.1+cu111-cp38-cp38-linux_x86_64.whl",
]


@pytest.fixture
def index(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeIndex]:
    with torch_wheel_index(monkeypatch, WHEELS) as fake:
        yield fake


def test_a_rocm_build_pytorch_org_publishes_is_read_from_its_index(index: FakeIndex) -> None:
    check = confirm_torch_wheel("2.3", "rocm6.0", python="3.11", arch="x86_64", glibc="2.35")
    assert check.found is True, check.note
    assert [s.path.split("/torch")[0] for s in index.seen] == ["/whl/rocm6.0"]


def test_amds_rocm_6_2_3_build_is_not_fetched_from_an_invented_index(index: FakeIndex) -> None:
    """legacy-rocm-build-4729's torch 2.3.0+rocm6.2.3 (repo.radeon.com): the table holds
    every build pytorch.org names for 2.3.0, so this one is none of them."""
    check = confirm_torch_wheel("2.3.0", "rocm6.2.3", python="3.11", arch="x86_64", glibc="2.35")
    assert index.seen == []
    assert check.found is False
    assert "2.3.0 rocm6.2.3 is not a download.pytorch.org build" in check.note


def test_the_lts_release_is_read_from_the_lts_index(index: FakeIndex) -> None:
    check = confirm_torch_wheel("1.8.2", "cu111", python="3.8", arch="x86_64", glibc="2.31")
    assert check.found is True, check.note
    assert [s.path.split("/torch")[0] for s in index.seen] == ["/whl/lts/1.8/cu111"]


def test_a_find_links_release_is_not_read_as_an_index(index: FakeIndex) -> None:
    """pytorch.org installs 1.9.1+cu111 with -f https://download.pytorch.org/whl/
    torch_stable.html: that page is no PEP 691 index, so nothing is claimed."""
    check = confirm_torch_wheel("1.9", "cu111", python="3.8", arch="x86_64", glibc="2.31")
    assert index.seen == []
    assert check.found is None
    assert "-f https://download.pytorch.org/whl/torch_stable.html" in check.note


def test_a_read_index_without_a_wheel_for_this_python_says_so(index: FakeIndex) -> None:
    """Not vacuous: the index the table names is read and judged as before."""
    check = confirm_torch_wheel("2.3", "rocm6.0", python="3.10", arch="x86_64", glibc="2.35")
    assert check.found is False
    assert "no torch 2.3 wheel for Python 3.10" in check.note
    assert [s.path.split("/torch")[0] for s in index.seen] == ["/whl/rocm6.0"]
