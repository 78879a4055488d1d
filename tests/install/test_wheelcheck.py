"""Issue 21 item 6: the recommended torch wheel is confirmed on its index (PEP 691) for
this Python, CPU and glibc; offline the check is a note, never an error. The index is
the fake on 127.0.0.1 (tests/install/fakeindex.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from envlock.api import matrix_advice
from envlock.install.wheelcheck import confirm_torch_wheel
from tests.conftest import run_envlock
from tests.install.fakeindex import FakeIndex, torch_wheel_index

WHEELS = [
    "torch-2.9.1+cu128-cp311-cp311-manylinux_2_28_x86_64.whl",
    "torch-2.9.1+cu128-cp312-cp312-manylinux_2_28_x86_64.whl",
    "torch-2.9.1+cu128-cp311-cp311-win_amd64.whl",
    "torch-2.8.0+cu128-cp313-cp313-manylinux_2_28_x86_64.whl",
]


@pytest.fixture
def index(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeIndex]:
    with torch_wheel_index(monkeypatch, WHEELS) as fake:
        yield fake


def test_a_wheel_for_this_python_and_platform_is_found(index: FakeIndex) -> None:
    check = confirm_torch_wheel("2.9", "cu128", python="3.11", arch="x86_64", glibc="2.35")
    assert check.found is True
    assert "torch-2.9.1+cu128-cp311-cp311-manylinux_2_28_x86_64.whl" in check.note
    assert index.seen and index.seen[0].path.startswith("/whl/cu128/torch")


@pytest.mark.parametrize(
    ("release", "python", "glibc"),
    [("2.9", "3.10", "2.35"), ("2.9", "3.11", "2.17"), ("2.8", "3.11", "2.35")],
    ids=["no cp310 wheel", "glibc too old for manylinux_2_28", "2.8 only for 3.13"],
)
def test_no_wheel_for_this_platform_says_so(
    index: FakeIndex, release: str, python: str, glibc: str
) -> None:
    check = confirm_torch_wheel(release, "cu128", python=python, arch="x86_64", glibc=glibc)
    assert check.found is False
    assert f"no torch {release} wheel for Python {python}" in check.note


def test_offline_is_a_note_never_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVLOCK_TORCH_INDEX", "http://127.0.0.1:9/whl/")
    check = confirm_torch_wheel("2.9", "cu128", python="3.11", arch="x86_64", glibc="2.35")
    assert check.found is None and "not confirmed" in check.note


def test_matrix_confirms_its_best_build(index: FakeIndex) -> None:
    advice = matrix_advice(gpu="H100", driver="570.26", python_version="3.11", check_index=True)
    assert advice.best is not None
    assert advice.wheel_check is not None
    assert ("/whl/" + advice.best.variant + "/torch") in index.seen[0].path
    assert advice.to_dict()["wheel_check"] == advice.wheel_check
    # without asking, nothing is fetched
    before = len(index.seen)
    assert matrix_advice(gpu="H100", driver="570.26", python_version="3.11").wheel_check is None
    assert len(index.seen) == before


def test_the_matrix_command_prints_the_check_offline_exit_unchanged() -> None:
    proc = run_envlock(["matrix", "--gpu", "H100", "--driver", "580.65.06"])
    assert proc.returncode == 0, proc.stderr
    assert "index: not confirmed on the index (offline?)" in proc.stdout
