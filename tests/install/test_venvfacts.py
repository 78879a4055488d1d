"""restore's verify reads the new venv's facts from its files (install/venvfacts.py)
instead of probing under its interpreter: real venvs (`python -m venv --without-pip`),
distributions laid out as installers write them, and the served probe under the venv's
python as the reference: the same facts where verify reads them, the same findings; and
no static answer (None: restore probes) where the files cannot tell."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

from envlock.collect import probe_interpreter
from envlock.facts import Facts
from envlock.install.venvfacts import KNOWN_IMPORTS, venv_document
from envlock.lock.build import build_lock
from envlock.usecases.restore import VENV_SECTIONS
from envlock.verify import verify

SECTIONS = (*VENV_SECTIONS, "cuda")


def _venv(root: Path, *extra: str) -> Path:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", *extra, str(root)], check=True)
    return root / "bin" / "python"


def _site(root: Path) -> Path:
    major, minor = sys.version_info[:2]
    return root / "lib" / f"python{major}.{minor}" / "site-packages"


def _dist(where: Path, name: str, version: str, *requires: str) -> None:
    """A distribution as pip lays it out: the .dist-info with METADATA, RECORD, INSTALLER."""
    info = where / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    lines = [f"Name: {name}", f"Version: {version}", *(f"Requires-Dist: {r}" for r in requires)]
    (info / "METADATA").write_text("Metadata-Version: 2.1\n" + "\n".join(lines) + "\n\n")
    (info / "INSTALLER").write_text("pip\n")
    (info / "RECORD").write_text(f"{info.name}/METADATA,,\n")
    (where / f"{name.replace('-', '_')}.py").write_text("")


@pytest.fixture
def venv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A venv holding two distributions, one more on a .pth path line, one more on
    PYTHONPATH (an empty entry too: the working directory), setuptools' distutils shim
    line in a .pth file, and a package of the same name earlier on the path."""
    python = _venv(tmp_path / "v")
    site = _site(tmp_path / "v")
    _dist(site, "six", "1.17.0")
    _dist(site, "requests", "2.32.3", "idna<4,>=2.5", "torch>=2; extra == 'x'")
    _dist(site, "idna", "3.10")  # shadowed: PYTHONPATH's idna comes first
    extra = tmp_path / "extra"
    _dist(extra, "attrs", "24.2.0")
    (site / "a-extra.pth").write_text(f"# a comment\n\n{extra}\n{tmp_path / 'missing'}\n")
    (site / "distutils-precedence.pth").write_text(sorted(KNOWN_IMPORTS)[1] + "\n")
    early = tmp_path / "early"
    _dist(early, "idna", "3.7")
    monkeypatch.setenv("PYTHONPATH", f"{early}{os.pathsep}{os.pathsep}{early}/")
    monkeypatch.chdir(tmp_path)
    return python


def _both(python: Path) -> tuple[Facts, Facts]:
    doc = venv_document(str(python), SECTIONS)
    assert doc is not None
    probed = probe_interpreter(str(python), torch_live=False, timeout=60, sections=SECTIONS)
    return Facts.from_dict(doc), probed


def test_the_files_give_the_probes_facts_where_verify_reads_them(venv: Path) -> None:
    read, probed = _both(venv)
    assert read.packages == probed.packages
    assert read.packages.distributions["idna"] == "3.7"  # PYTHONPATH first, as imports see it
    assert "attrs" in read.packages.distributions  # the .pth line's directory
    assert read.torch == probed.torch
    assert read.extensions == probed.extensions
    assert read.env == probed.env
    assert read.system.python == probed.system.python
    assert dataclasses.replace(read.system, python=None) == dataclasses.replace(
        probed.system, python=None
    )
    assert read.cuda.toolkit == probed.cuda.toolkit
    assert read.cuda.wheels == probed.cuda.wheels


def test_verify_finds_the_same_with_the_files_as_with_the_probe(venv: Path) -> None:
    read, probed = _both(venv)
    lock = build_lock(probed)
    # a lock the venv drifted from: another six, a package it lacks, one it does not lock
    packages = {k: v for k, v in lock.packages.items() if k != "attrs"}
    drifted = dataclasses.replace(lock, packages={**packages, "six": "1.16.0", "gone": "1.0"})
    for scope in ("software", "full"):
        want = verify(drifted, probed, scope=scope)
        got = verify(drifted, read, scope=scope)
        assert [f.to_dict() for f in got] == [f.to_dict() for f in want]
        assert {f.field for f in want} >= {"packages.six", "packages.gone", "packages.attrs"}


@pytest.mark.parametrize(
    "change",
    [
        "import-line",
        "system-site",
        "sitecustomize",
        "pythonhome",
        "copies",
        "no-pyvenv-cfg",
    ],
)
def test_what_the_files_cannot_tell_is_left_to_the_probe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    root = tmp_path / "v"
    python = _venv(root, *(("--copies",) if change == "copies" else ()))
    site = _site(root)
    _dist(site, "six", "1.17.0")
    assert venv_document(str(python), SECTIONS) is not None or change == "copies"
    if change == "import-line":  # code that may change sys.path before the probe runs
        (site / "hook.pth").write_text("import sys; sys.path.insert(0, '/elsewhere')\n")
    elif change == "system-site":
        cfg = root / "pyvenv.cfg"
        cfg.write_text(
            cfg.read_text().replace(
                "include-system-site-packages = false", "include-system-site-packages = true"
            )
        )
    elif change == "sitecustomize":
        (tmp_path / "hooks").mkdir()
        (tmp_path / "hooks" / "sitecustomize.py").write_text("import sys\n")
        monkeypatch.setenv("PYTHONPATH", str(tmp_path / "hooks"))
    elif change == "pythonhome":
        monkeypatch.setenv("PYTHONHOME", sys.base_prefix)
    elif change == "no-pyvenv-cfg":
        (root / "pyvenv.cfg").unlink()
    assert venv_document(str(python), SECTIONS) is None


def test_a_customize_module_added_after_the_standard_library_was_listed_is_seen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """preload() lists the standard library while uv runs; a sitecustomize that appears
    there later (its directory's mtime changed) is seen all the same."""
    from envlock.install import venvfacts

    root = tmp_path / "v"
    python = _venv(root)
    stdlib = tmp_path / "stdlib"
    stdlib.mkdir()
    monkeypatch.setattr(venvfacts, "_stdlib", lambda: [str(stdlib)])
    monkeypatch.setattr(venvfacts, "_LISTED", {})
    venvfacts.list_stdlib()
    assert venv_document(str(python), SECTIONS) is not None
    (stdlib / "sitecustomize.py").write_text("import sys\n")
    mtime = stdlib.stat().st_mtime_ns
    os.utime(stdlib, ns=(mtime, mtime + 10**9))  # a later tick than the listing's, surely
    assert venv_document(str(python), SECTIONS) is None
