"""The extension scan cannot be made to hang or crawl by what a file claims (issue 19,
item 5): a FIFO in a RECORD, a sparse file stating a 512 MiB-8 GiB `.nv_fatbin`, 1.5 M
undefined symbols, a string table without NULs, a 5,000-digit libcudart major; and a
scan that runs out of time or bytes says so and how many files it did not examine.

Each file is a real ELF file written by tests/probe/elf_build.py (readelf agrees with
it). What could hang runs in a child process with a timeout, so a regression fails
the test instead of stopping the suite.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import venv
from pathlib import Path

import pytest

from envlock.probe import elfscan, extensions
from tests.conftest import REPO, clean_env, run_envlock
from tests.probe.elf_build import fatbin, shared_object

TORCH_SYMBOL = "_ZN3c104failEv"


def _child(code: str, timeout: float) -> object:
    """Run `code` (which prints one JSON value) in a fresh interpreter; its value."""
    try:
        proc = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(code)],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=clean_env(),
            cwd=REPO,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"did not finish within {timeout} s")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _dist(site: Path, name: str, files: dict[str, Path | None]) -> Path:
    """A distribution laid out as pip installs it; `files`: RECORD path -> source (None:
    the entry is made by the caller)."""
    info = site / f"{name}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    for rel, src in files.items():
        (site / rel).parent.mkdir(parents=True, exist_ok=True)
        if src is not None:
            shutil.copyfile(src, site / rel)
    (info / "RECORD").write_text("".join(f"{rel},,\n" for rel in files))
    return site


def test_the_builder_writes_what_readelf_reads(tmp_path: Path) -> None:
    if shutil.which("readelf") is None:
        pytest.skip("readelf is not installed")
    so = shared_object(
        tmp_path / "x.so",
        needed=["libc10.so"],
        undefined=[TORCH_SYMBOL, "malloc"],
        defined=["_ZN3c103fooEv"],
        fatbin=fatbin(),
    )
    out = subprocess.run(
        ["readelf", "-W", "--dyn-syms", "-S", str(so)], capture_output=True, text=True, check=True
    ).stdout
    assert ".nv_fatbin" in out and ".gnu.hash" in out
    assert f"UND {TORCH_SYMBOL}" in out and "1 _ZN3c103fooEv" in out
    fh, elf = elfscan.open_elf(str(so))
    with fh:
        assert elf.needed() == ["libc10.so"]
        assert elf.undefined_symbols() == sorted([TORCH_SYMBOL, "malloc"])
        table = elf.exports()
        assert table is not None and table.has("_ZN3c103fooEv") and not table.has("malloc")


# ------------------------------------------------------------------------ FIFOs
def test_a_fifo_listed_in_a_record_is_skipped_with_a_note(tmp_path: Path) -> None:
    site = _dist(
        tmp_path / "site-packages",
        "fifo-ext",
        {
            "fifo_ext/_a.so": shared_object(tmp_path / "a.so", needed=["libc10.so"]),
            "fifo_ext/_fifo.so": None,
        },
    )
    os.mkfifo(site / "fifo_ext" / "_fifo.so")
    section = _child(
        f"""
        import json
        from envlock.probe import extensions
        print(json.dumps(extensions.collect([{str(site)!r}], torch_dir="")))
        """,
        timeout=30,
    )
    assert isinstance(section, dict)
    items = {Path(i["file"]).name: i for i in section["items"]}
    assert items["_fifo.so"]["partial"] == "a FIFO, not a regular file: skipped"
    assert items["_a.so"]["links"] == ["libc10.so"] and items["_a.so"]["partial"] is None
    assert section["files_scanned"] == 2 and section["partial"] is None


def test_a_fifo_as_record_or_metadata_does_not_block(tmp_path: Path) -> None:
    site = tmp_path / "site-packages"
    info = site / "fifo_meta-0.1.dist-info"
    info.mkdir(parents=True)
    os.mkfifo(info / "RECORD")
    os.mkfifo(info / "METADATA")
    section = _child(
        f"""
        import json
        from envlock.probe import _dists, extensions
        dist = _dists.distributions([{str(site)!r}])["fifo-meta"]
        print(json.dumps([dist.requires(), extensions.collect([{str(site)!r}], torch_dir="")]))
        """,
        timeout=30,
    )
    assert section == [
        [],
        {
            "unavailable": None,
            "files_scanned": 0,
            "torch_libraries": 0,
            "items": [],
            "partial": None,
        },
    ]


def test_probe_python_with_a_fifo_in_a_record_finishes(tmp_path: Path) -> None:
    """The issue's case end to end: `probe --python` on a venv whose RECORD lists a FIFO
    (before: the probe waited for its 60 s limit and lost the extensions section)."""
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False, symlinks=True)
    (site,) = env_dir.glob("lib/python3*/site-packages")
    _dist(site, "fifo-ext", {"fifo_ext/_fifo.so": None})
    os.mkfifo(site / "fifo_ext" / "_fifo.so")
    try:
        proc = run_envlock(
            ["probe", "--json", "--no-torch-live", "--python", str(env_dir / "bin" / "python")],
            env=clean_env(ENVLOCK_CACHE_DIR=str(tmp_path / "cache")),
            timeout=45,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("probe --python did not finish within 45 s")
    assert proc.returncode == 0, proc.stderr
    ext = json.loads(proc.stdout)["extensions"]
    assert ext["unavailable"] is None
    (item,) = ext["items"]
    assert item["partial"] == "a FIFO, not a regular file: skipped"


# ------------------------------------------------------------ what files claim
def test_a_sparse_fatbin_stating_gigabytes_is_not_walked(tmp_path: Path) -> None:
    """8 GiB of stated .nv_fatbin, a few KB on disk: before, the reader stepped through
    the hole 8 bytes at a time (37 s for 512 MiB, ~10 min for this one)."""
    so = shared_object(tmp_path / "sparse.so", needed=["libc10.so"], fatbin_size=8 << 30)
    assert os.stat(so).st_blocks * 512 < 1 << 20  # sparse indeed
    out = _child(
        f"""
        import json
        from envlock.probe import elfscan, extensions
        print(json.dumps([elfscan.read_gpu_code({str(so)!r}),
                          extensions.scan_file({str(so)!r}, None)]))
        """,
        timeout=20,
    )
    assert isinstance(out, list)
    gpu, entry = out
    assert gpu["sass"] == [] and "stopped after reading 64 MiB of this file" in gpu["partial"]
    assert entry["links"] == ["libc10.so"] and entry["sha256"] is None
    assert "64 MiB of this file" in entry["partial"] and "not hashed" in entry["partial"]


def test_a_section_stating_more_than_the_file_holds_is_refused(tmp_path: Path) -> None:
    so = shared_object(tmp_path / "x.so", needed=["libc10.so"], fatbin=fatbin())
    data = bytearray(so.read_bytes())
    # grow .nv_fatbin's sh_size (the 6th header: null, text, dynstr, dynsym, dynamic, fatbin)
    shoff = int.from_bytes(data[0x28:0x30], "little")
    at = shoff + 5 * 64 + 32
    data[at : at + 8] = (1 << 40).to_bytes(8, "little")
    so.write_bytes(bytes(data))
    assert "outside the file" in str(elfscan.read_gpu_code(str(so))["partial"])


def test_millions_of_undefined_symbols_are_capped(tmp_path: Path) -> None:
    """1.5 M undefined torch symbols looked up in a torch library (before: 50 s)."""
    lib = tmp_path / "torch" / "lib"
    lib.mkdir(parents=True)
    shared_object(lib / "libc10.so", defined=[TORCH_SYMBOL, *(f"_ZN3c10g{i}Ev" for i in range(64))])
    names = [f"_ZN3c10f{i:07d}Ev" for i in range(1_500_000)]
    so = shared_object(tmp_path / "many.so", needed=["libc10.so"], undefined=[TORCH_SYMBOL, *names])
    entry = _child(
        f"""
        import json
        from envlock.probe import extensions
        lookup = extensions._TorchExports([{str(lib / "libc10.so")!r}])
        print(json.dumps(extensions.scan_file({str(so)!r}, lookup)))
        """,
        timeout=30,
    )
    assert isinstance(entry, dict)
    cap, lookups = elfscan.MAX_SYMBOLS, extensions.MAX_LOOKUPS
    assert f"only the first {cap} of 1500001 dynamic symbols examined" in entry["partial"]
    assert f"only the first {lookups} of {cap} torch symbols looked up" in entry["partial"]
    assert entry["torch_symbols"] == cap
    # the one symbol libc10.so exports is found; each other one looked up is missing
    assert entry["missing_torch_symbols_total"] == lookups - 1


def test_a_string_table_without_nuls_is_not_copied_per_symbol(tmp_path: Path) -> None:
    """Every symbol names a different offset of a 16 MB .dynstr without NULs: before,
    each name was the rest of the table (quadratic: hours)."""
    so = shared_object(tmp_path / "x.so", needed=["libc10.so"], undefined=["s"] * 1)
    data = bytearray(so.read_bytes())
    fh, elf = elfscan.open_elf(str(so))
    with fh:
        dynstr = elf.section(".dynstr")
        dynsym = elf.section(".dynsym")
    assert dynstr is not None and dynsym is not None
    # append a NUL-less table and 100,000 symbols pointing into it; repoint the headers
    table_off = len(data)
    data += b"A" * (16 << 20)
    sym_off = len(data)
    for i in range(100_000):
        data += (1 + i * 100).to_bytes(4, "little") + bytes([0x12, 0, 0, 0]) + bytes(16)
    shoff = int.from_bytes(data[0x28:0x30], "little")
    for index, off, size in ((2, table_off, 16 << 20), (3, sym_off - 24, 24 * 100_001)):
        at = shoff + index * 64
        data[at + 24 : at + 40] = off.to_bytes(8, "little") + size.to_bytes(8, "little")
    so.write_bytes(bytes(data))
    out = _child(
        f"""
        import json
        from envlock.probe import elfscan
        fh, elf = elfscan.open_elf({str(so)!r})
        with fh:
            names = elf.undefined_symbols()
        print(json.dumps([len(names), max(map(len, names)), elf.notes]))
        """,
        timeout=30,
    )
    assert isinstance(out, list)
    count, longest, notes = out
    assert longest == elfscan.MAX_NAME
    assert count * longest <= elfscan.MAX_NAME_BYTES + longest
    assert notes == [f"symbol names past {elfscan.MAX_NAME_BYTES >> 20} MiB not examined"]


def test_a_huge_libcudart_major_is_not_a_crash(tmp_path: Path) -> None:
    so = shared_object(tmp_path / "x.so", needed=["libcudart.so." + "1" * 5000])
    entry = extensions.scan_file(str(so), None)
    assert entry["links"] == ["libcudart.so." + "1" * 5000] and entry["cuda_major"] is None


# ------------------------------------------------------------ the scan's budget
def _three_files(tmp_path: Path) -> Path:
    return _dist(
        tmp_path / "site-packages",
        "budget-ext",
        {
            f"budget_ext/_{i}.so": shared_object(
                tmp_path / f"{i}.so", needed=["libc10.so"], fatbin=fatbin()
            )
            for i in range(3)
        },
    )


def test_a_scan_out_of_time_says_how_many_files_it_did_not_examine(tmp_path: Path) -> None:
    site = _three_files(tmp_path)
    cache: dict[str, object] = {}
    section = extensions.collect([str(site)], torch_dir="", cache=cache, timeout=0)
    assert section["partial"] == "scan stopped after 0 s: 3 of 3 files not examined"
    assert section["files_scanned"] == 0 and section["items"] == [] and cache == {}
    full = extensions.collect([str(site)], torch_dir="", cache=cache)
    assert full["partial"] is None and len(full["items"]) == 3 and len(cache) == 3


@pytest.mark.parametrize(
    ("second", "not_examined"),
    [(300, 2), (700, 1)],
    ids=["second-file-stops-in-its-headers", "second-file-stops-in-its-fatbin"],
)
def test_a_scan_out_of_bytes_stops_and_caches_nothing_cut_short(
    tmp_path: Path, second: int, not_examined: int
) -> None:
    """Reading one of these files takes 755 bytes: 597 of headers, then .dynamic (the
    links are known at 640), the fatbin (720), the symbols."""
    site = _three_files(tmp_path)
    budget = elfscan.Budget()
    extensions.scan_file(str(site / "budget_ext" / "_0.so"), None, budget)
    assert budget.used == 755
    cache: dict[str, object] = {}
    section = extensions.collect([str(site)], torch_dir="", cache=cache, max_bytes=755 + second)
    assert section["partial"] == (
        f"scan stopped after {755 + second} bytes: {not_examined} of 3 files not examined"
    )
    assert section["files_scanned"] == 3 - not_examined
    first, *rest = section["items"]
    assert first["partial"] is None and first["sass"] == ["sm_90"]
    if not_examined == 1:  # the second file was read in part: it says so
        (cut,) = rest
        assert cut["links"] == ["libc10.so"] and cut["sass"] == []
        assert cut["partial"] == f"scan stopped after {755 + second} bytes"
    else:  # stopped before its links were known: not listed at all
        assert rest == []
    assert len(cache) == 1  # only the file read in full


def test_facts_keep_the_scan_note() -> None:
    from envlock.facts import ExtensionsFacts, Facts
    from tests.facts_builders import cpu_venv, edit

    facts = edit(cpu_venv(), "extensions", ExtensionsFacts(partial="scan stopped after 20 s"))
    again = Facts.from_json(facts.to_json())
    assert again.extensions.partial == "scan stopped after 20 s"


def test_records_past_their_bound_are_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = _three_files(tmp_path)
    so = shared_object(tmp_path / "y.so", needed=["libc10.so"])
    _dist(site, "later-ext", {"later_ext/_y.so": so})
    record = (site / "budget-ext-0.1.dist-info" / "RECORD").read_text()
    monkeypatch.setattr(extensions, "MAX_RECORDS_BYTES", len(record) - 1)
    section = extensions.collect([str(site)], torch_dir="")
    assert section["partial"] == (
        f"RECORDs past {(len(record) - 1) >> 20} MiB not read: 1 distributions not examined"
    )
    assert [Path(i["file"]).name for i in section["items"]] == ["_0.so", "_1.so", "_2.so"]
