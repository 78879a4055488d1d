"""The ctypes child is skipped only when no libcudart/libcuda could possibly load."""

from __future__ import annotations

from pathlib import Path

import pytest

from envlock.probe import cudalibs


@pytest.fixture()
def no_default_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    empty = tmp_path / "usr-lib"
    empty.mkdir()
    monkeypatch.setattr(cudalibs, "_DEFAULT_LIB_DIRS", (str(empty),))
    return empty


def test_nothing_loadable(no_default_dirs: Path) -> None:
    assert cudalibs._runtime_candidates_exist(None, [], []) is False


def test_libcuda_in_a_default_dir(no_default_dirs: Path) -> None:
    (no_default_dirs / "libcuda.so.1").write_bytes(b"")
    assert cudalibs._runtime_candidates_exist(None, [], []) is True


def test_libcudart_in_ldconfig_or_ld_library_path(no_default_dirs: Path) -> None:
    assert (
        cudalibs._runtime_candidates_exist(None, [], ["/usr/lib/x86_64-linux-gnu/libcudart.so.12"])
        is True
    )
    assert (
        cudalibs._runtime_candidates_exist(
            None, [{"path": "/opt/cuda/lib64", "libraries": ["libcudart.so.13"]}], []
        )
        is True
    )
    # other CUDA-family libraries alone do not make the runtime loadable
    assert (
        cudalibs._runtime_candidates_exist(
            None, [{"path": "/opt/x", "libraries": ["libcudnn.so.9"]}], []
        )
        is False
    )


def test_toolkit_libcudart_counts(no_default_dirs: Path, tmp_path: Path) -> None:
    home = tmp_path / "cuda"
    (home / "lib64").mkdir(parents=True)
    (home / "lib64" / "libcudart.so.13").write_bytes(b"")
    assert cudalibs._runtime_candidates_exist(str(home), [], []) is True
