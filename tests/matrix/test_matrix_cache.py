"""The parsed-matrix cache (matrix/loader.py): equal to the TOML, keyed by each file's
stat and envlock's version, silent when it cannot be read or written."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest
import tomllib

from envlock.matrix import loader

PACKAGE = Path(str(resources.files("envlock.matrix")))


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of the matrix files as the package, and an empty cache directory."""
    root = tmp_path / "matrix"
    root.mkdir()
    for name in loader.CACHED:
        shutil.copy(PACKAGE / name, root / name)
    monkeypatch.setattr(loader.resources, "files", lambda package: root)
    monkeypatch.setenv("ENVLOCK_CACHE_DIR", str(tmp_path / "cache"))
    loader._parsed.cache_clear()
    yield root
    loader._parsed.cache_clear()


def _no_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(root: object, name: str) -> object:
        raise AssertionError(f"{name} parsed: the cache was not used")

    monkeypatch.setattr(loader, "_parse", refuse)


def test_every_file_reads_as_the_toml_says(tree: Path) -> None:
    for name in loader.CACHED:
        assert loader.read_toml(name) == tomllib.loads((tree / name).read_text("utf-8"))
    # and again from the cache, in a "new process"
    loader._parsed.cache_clear()
    for name in loader.CACHED:
        assert loader.read_toml(name) == tomllib.loads((tree / name).read_text("utf-8"))


def test_a_second_process_reads_the_cache_not_the_toml(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = loader.read_documents()
    loader._parsed.cache_clear()
    _no_parse(monkeypatch)
    assert loader.read_documents() == first
    assert loader.build_matrix(loader.read_documents()) == loader.build_matrix(first)


def test_an_edited_file_is_parsed_again(tree: Path) -> None:
    loader.read_documents()
    loader._parsed.cache_clear()
    text = (tree / "sources.toml").read_text("utf-8")
    (tree / "sources.toml").write_text(text + '\n[sources.ZZ-TEST]\nurl = "https://example.org"\n')
    assert "ZZ-TEST" in loader.read_documents()["sources.toml"]["sources"]


def test_another_version_does_not_read_the_entry(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loader.read_documents()
    loader._parsed.cache_clear()
    monkeypatch.setattr(loader, "__version__", "0.0.0-other")
    parsed: list[str] = []
    real = loader._parse

    def counting(root: object, name: str) -> dict[str, object]:
        parsed.append(name)
        return real(root, name)  # type: ignore[arg-type]

    monkeypatch.setattr(loader, "_parse", counting)
    loader.read_documents()
    assert parsed == list(loader.CACHED)


@pytest.mark.parametrize("garbage", [b"", b"\x00\x01garbage", b"\xe9" * 100])
def test_a_broken_entry_is_parsed_and_replaced(
    tree: Path, monkeypatch: pytest.MonkeyPatch, garbage: bytes
) -> None:
    expected = loader.read_documents()
    entry = loader._cache_file()
    entry.write_bytes(garbage)
    loader._parsed.cache_clear()
    assert loader.read_documents() == expected
    assert entry.read_bytes() != garbage
    loader._parsed.cache_clear()
    _no_parse(monkeypatch)
    assert loader.read_documents() == expected


def test_an_unwritable_cache_directory_only_costs_the_parse(
    tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("ENVLOCK_CACHE_DIR", str(blocker / "cache"))
    assert loader.read_toml("family.toml") == tomllib.loads(
        (tree / "family.toml").read_text("utf-8")
    )
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".matrix-")] == []


def test_callers_get_their_own_objects(tree: Path) -> None:
    docs = loader.read_documents()
    docs["sources.toml"]["sources"].clear()
    assert loader.read_documents()["sources.toml"]["sources"]
