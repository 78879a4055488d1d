"""What a distribution's files say, cached by their stat (probe/statcache.py): the shared
objects its RECORD lists (the extension scan), its METADATA's Requires-Dist lines (the
packages section) and torch's version.py are read once while the file stays; a file
changed (another size, mtime or inode) is read again; a probe without a cache reads them
every time."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from envlock.probe import _dists, _util, extensions, packages, statcache, torch_info


@pytest.fixture
def site(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    info = site / "ext-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Name: ext\nVersion: 1.0\nRequires-Dist: torch>=2\n\n")
    (info / "RECORD").write_text("ext/_C.so,,\next/__init__.py,,\n")
    return site


class Reads:
    """The files the probe opened through its one reader, by name."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.names: list[str] = []
        real_text, real_open = _util.read_text, extensions.open_regular

        def read_text(path: str, limit: int = 1 << 20) -> str | None:
            self.names.append(os.path.basename(path))
            return real_text(path, limit)

        def open_regular(path: str):  # type: ignore[no-untyped-def]
            self.names.append(os.path.basename(path))
            return real_open(path)

        monkeypatch.setattr(_dists, "read_text", read_text)
        monkeypatch.setattr(extensions, "open_regular", open_regular)

    def take(self) -> list[str]:
        names, self.names = sorted(self.names), []
        return names


def _probe(site: Path, cache_dir: Path | None) -> tuple[list[str], list[str]]:
    """One process's probe of `site`: (the RECORD's shared objects, ext's requirements)."""
    _dists._cache.clear()  # a per-process memo: each probe is a new process
    cache = None if cache_dir is None else statcache.open_cache(str(cache_dir))
    found, _, _ = extensions._files_to_scan([str(site)], cache)
    doc = packages.collect([str(site)], cache=cache)
    if cache is not None:
        cache.save()
    requires = [r for entry in doc["requires"] for r in entry["requires"]]
    return [os.path.basename(f) for _, _, f in found], requires


def test_an_unchanged_distribution_is_not_read_again(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = Reads(monkeypatch)
    first = _probe(site, tmp_path / "cache")
    assert first == (["_C.so"], ["torch>=2"])
    assert reads.take() == ["METADATA", "RECORD"]
    assert _probe(site, tmp_path / "cache") == first
    assert reads.take() == []  # neither file opened
    assert _probe(site, None) == first  # no cache: read as before
    assert reads.take() == ["METADATA", "RECORD"]


def test_a_changed_record_or_metadata_is_read_again(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    info = site / "ext-1.0.dist-info"
    _probe(site, tmp_path / "cache")
    record, metadata = info / "RECORD", info / "METADATA"
    st = record.stat()
    record.write_text(record.read_text().replace("_C.so", "_D.so"))  # same size
    os.utime(record, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert _probe(site, tmp_path / "cache") == (["_D.so"], ["torch>=2"])
    # another file at the same path (a reinstall), same size and mtime: another inode
    st = metadata.stat()
    replacement = info / "METADATA.new"
    replacement.write_text(metadata.read_text().replace("torch>=2", "torch>=3"))
    os.utime(replacement, ns=(st.st_atime_ns, st.st_mtime_ns))
    replacement.replace(metadata)
    assert _probe(site, tmp_path / "cache") == (["_D.so"], ["torch>=3"])


def test_a_damaged_entry_is_read_again(site: Path, tmp_path: Path) -> None:
    first = _probe(site, tmp_path / "cache")
    cache = statcache.open_cache(str(tmp_path / "cache"))
    record = str(site / "ext-1.0.dist-info" / "RECORD")
    cache.put(f"record:{record}", [statcache.stat_line(record)], [])
    cache.save()
    assert _probe(site, tmp_path / "cache") == first


def _torch_site(tmp_path: Path, cuda: str, git_version: str = "'abc'") -> Path:
    site = tmp_path / "torch-site"
    (site / "torch").mkdir(parents=True, exist_ok=True)
    (site / "torch" / "__init__.py").write_text("")
    (site / "torch" / "version.py").write_text(
        f"__version__ = '2.5.0'\ncuda = {cuda}\ngit_version = {git_version}\nhip = None\n"
    )
    return site


def _torch(site: Path, cache_dir: Path) -> tuple[object, object]:
    cache = statcache.open_cache(str(cache_dir))
    doc = torch_info.static_facts([str(site)], cache=cache)
    cache.save()
    return doc.get("version"), doc.get("cuda")


def test_torchs_version_py_is_parsed_once_while_it_stays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = _torch_site(tmp_path, "'12.4'")
    parses: list[str] = []
    real = torch_info.parse_version_py
    monkeypatch.setattr(torch_info, "parse_version_py", lambda t: parses.append(t) or real(t))
    assert _torch(site, tmp_path / "cache") == ("2.5.0", "12.4")
    assert _torch(site, tmp_path / "cache") == ("2.5.0", "12.4")
    assert len(parses) == 1
    _torch_site(tmp_path, "'13.0'")  # rewritten: another size or mtime
    assert _torch(site, tmp_path / "cache") == ("2.5.0", "13.0")
    assert len(parses) == 2
    _torch_site(tmp_path, "'13.0'", "('a', 'b')")  # JSON would give a list back: not stored
    assert _torch(site, tmp_path / "cache") == _torch(site, tmp_path / "cache")
    assert len(parses) == 4
