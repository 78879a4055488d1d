"""The extension scan over a site directory laid out as pip installs a wheel: which files
it keeps, and its per-file cache (path, size, mtime; livecache.py keeps it on disk)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from envlock import livecache
from envlock.probe import extensions
from tests.ext_assets import nvcc_extension


def _site(tmp_path: Path) -> Path:
    site = tmp_path / "site-packages"
    pkg = site / "envlock14_ext"
    info = site / "envlock14_ext-0.1.dist-info"
    pkg.mkdir(parents=True)
    info.mkdir()
    shutil.copyfile(nvcc_extension("sm80"), pkg / "_k.so")
    (pkg / "_stub.so").write_text("not a shared object\n")  # skipped: not ELF
    shutil.copyfile(
        "/bin/true" if Path("/bin/true").exists() else "/usr/bin/true", pkg / "_plain.so"
    )
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: envlock14-ext\nVersion: 0.1\n")
    (info / "RECORD").write_text(
        "envlock14_ext/_k.so,,\nenvlock14_ext/_stub.so,,\nenvlock14_ext/_plain.so,,\n"
        "envlock14_ext-0.1.dist-info/RECORD,,\n"
    )
    return site


def test_only_files_linking_torch_or_cuda_are_kept(tmp_path: Path) -> None:
    site = _site(tmp_path)
    section = extensions.collect([str(site)], torch_dir="")
    assert section["files_scanned"] == 3
    (item,) = section["items"]
    assert item["distribution"] == "envlock14-ext" and item["version"] == "0.1"
    assert item["file"] == str(site / "envlock14_ext" / "_k.so")
    assert item["sass"] == ["sm_80"] and item["missing_torch_symbols_total"] is None


def test_cache_skips_unchanged_files_and_rescans_a_touched_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = _site(tmp_path)
    cache: dict[str, object] = {}
    first = extensions.collect([str(site)], torch_dir="", cache=cache)
    assert len(cache) == 3  # every scanned file, kept or not

    def no_read(*_a: object, **_k: object) -> None:
        raise AssertionError("an unchanged file was read again")

    monkeypatch.setattr(extensions, "scan_file", no_read)
    assert extensions.collect([str(site)], torch_dir="", cache=cache) == first
    monkeypatch.undo()
    so = site / "envlock14_ext" / "_k.so"
    shutil.copyfile(nvcc_extension("sm90-ptx90"), so)
    os.utime(so, ns=(1, 2_000_000_000))
    (item,) = extensions.collect([str(site)], torch_dir="", cache=cache)["items"]
    assert item["sass"] == ["sm_90"] and item["ptx"] == ["compute_90"]


def test_cache_file_round_trip_keeps_only_what_the_last_scan_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENVLOCK_CACHE_DIR", str(tmp_path / "cache"))
    site = _site(tmp_path)
    stale = livecache.ExtensionCache({})
    stale["stale-key"] = {"file": "/gone.so", "links": []}  # a file scanned long ago
    livecache.store_extension_cache(stale)
    cache = livecache.load_extension_cache()
    assert "stale-key" in cache
    extensions.collect([str(site)], torch_dir="", cache=cache)
    livecache.store_extension_cache(cache)
    again = livecache.load_extension_cache()
    assert "stale-key" not in again and len(again) == 3
    (tmp_path / "cache" / "extensions-v1.json").write_text("{not json")
    assert len(livecache.load_extension_cache()) == 0  # a damaged cache is a miss


def test_probe_table_lists_the_recorded_extensions(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    monkeypatch.delenv("COLUMNS", raising=False)  # a width would fold the arch list

    from envlock.report.facts_table import render_facts
    from tests.lock.facts_fixtures import rich_facts

    out = io.StringIO()
    render_facts(rich_facts(), out)
    text = out.getvalue()
    assert "extensions" in text and "_C_stable.so" in text
    assert "sm_75 sm_80 sm_86 sm_90 sm_100 sm_120 compute_120" in text


def test_a_scan_answered_from_the_cache_loads_no_elf_reader(tmp_path: Path) -> None:
    """An unchanged venv (every file a cache hit: each warm verify and doctor) imports
    none of the ELF scanner's modules (elfscan, fatbin, gnuhash, elf: 2-5 ms); a file
    scanned in the same process still is, with the same entry."""
    import json
    import subprocess
    import sys

    site = _site(tmp_path)
    cache: dict[str, object] = {}
    first = extensions.collect([str(site)], torch_dir="", cache=cache)
    code = (
        "import json, sys\n"
        "from envlock.probe import extensions\n"
        "cache = json.load(open(sys.argv[2]))\n"
        "section = extensions.collect([sys.argv[1]], torch_dir='', cache=cache)\n"
        "scanner = sorted(m for m in sys.modules if m.startswith(\n"
        "    ('envlock.probe.elfscan', 'envlock.probe.fatbin', 'envlock.probe.gnuhash',\n"
        "     'envlock.probe.elf')) and m != 'envlock.probe.elfread')\n"
        "print(json.dumps([section, scanner]))\n"
    )
    (tmp_path / "cache.json").write_text(json.dumps(cache))
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code, str(site), str(tmp_path / "cache.json")],
        capture_output=True,
        text=True,
        check=True,
        cwd=root,
    )
    section, scanner = json.loads(out.stdout)
    assert scanner == []
    assert section == json.loads(json.dumps(first))
