"""The code stamp of a repeat restore's keys (reportcache._code_dirs: envlock's package
and packaging's) found as importlib.util.find_spec finds a package, without importing
importlib.util (~0.5 ms of a replayed restore, issue 23's restore row)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _run(code: str, *args: str, bare: bool) -> list[str]:
    """`code` in a fresh interpreter (-S where bare: no .pth file imports importlib.util
    first; site-packages appended) with the repository first on sys.path: its stdout's
    lines."""
    import sysconfig

    flags = ["-S"] if bare else []
    purelib = sysconfig.get_paths()["purelib"]
    proc = subprocess.run(
        [sys.executable, *flags, "-c", code, str(REPO), purelib, *args],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return proc.stdout.splitlines()


def test_the_code_directories_need_no_importlib_util() -> None:
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); sys.path.append(sys.argv[2])\n"
        "from envlock import reportcache\n"
        "print(len(reportcache._code_dirs()), reportcache.new_sha256().hexdigest())\n"
        "print('importlib.util' in sys.modules, 'importlib' in sys.modules)\n"
    )
    dirs, loaded = _run(code, bare=True)
    assert dirs == "2 " + "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert loaded == "False False"


def test_a_package_dir_is_the_one_find_spec_names() -> None:
    """Loaded (json, envlock) or not yet (packaging, with the machine's .pth finders on
    sys.meta_path), a module not a package (os), and none at all."""
    code = (
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "import importlib.util, json\n"
        "from envlock import reportcache\n"
        "for name in sys.argv[3:]:\n"
        "    loaded = name in sys.modules\n"
        "    spec = importlib.util.find_spec(name)\n"
        "    where = spec.submodule_search_locations if spec is not None else None\n"
        "    print(name, loaded, reportcache._package_dir(name) == (where[0] if where else None),"
        " reportcache._package_dir(name) is None)\n"
    )
    names = ["packaging", "json", "envlock", "os", "envlock_no_such_package"]
    lines = _run(code, *names, bare=False)
    assert lines == [
        "packaging False True False",
        "json True True False",
        "envlock True True False",
        "os True True True",
        "envlock_no_such_package False True True",
    ]


# ---------------------------------------------------------------- installed from a wheel
def _site(tmp_path: Path, record: str | None = "pkgx/__init__.py,sha256=x,10\n") -> Path:
    """A site-packages of one package `pkgx` (two modules) and, unless `record` is None,
    its distribution's pkgx-1.0.dist-info/RECORD holding `record`."""
    site = tmp_path / "site"
    (site / "pkgx" / "sub").mkdir(parents=True)
    (site / "pkgx" / "__init__.py").write_text("A = 1\n")
    (site / "pkgx" / "sub" / "mod.py").write_text("B = 2\n")
    if record is not None:
        (site / "pkgx-1.0.dist-info").mkdir()
        (site / "pkgx-1.0.dist-info" / "RECORD").write_text(record)
    return site / "pkgx"


def _keyed(monkeypatch: pytest.MonkeyPatch, package: Path) -> str:
    from envlock import reportcache

    monkeypatch.setattr(reportcache, "_code_dirs", lambda: [str(package)])
    return reportcache.key("restore-plan", b"lock")


def test_an_installed_package_is_stamped_by_its_record_without_a_walk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reinstall writes RECORD anew (the same files: the walk saw no change), and the
    package's ~300 files are not listed one by one on every run."""
    package = _site(tmp_path)
    listed: list[str] = []
    real_scandir = os.scandir

    def scandir(path: str) -> object:
        listed.append(path)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    first = _keyed(monkeypatch, package)
    assert listed == []
    assert _keyed(monkeypatch, package) == first
    record = package.parent / "pkgx-1.0.dist-info" / "RECORD"
    record.write_text(record.read_text() + "pkgx/sub/mod.py,sha256=y,6\n")  # reinstalled
    assert _keyed(monkeypatch, package) != first


@pytest.mark.parametrize(
    "layout",
    ["no dist-info (a checkout)", "RECORD of another package", "two dist-infos", "a link"],
)
def test_elsewhere_an_edit_to_a_module_changes_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, layout: str
) -> None:
    """A source checkout or editable install (no RECORD beside the package), a RECORD
    that does not name the package's __init__.py, an ambiguous pair of dist-infos, a
    package directory that is a link into a checkout: every file is stamped."""
    record = {"no dist-info (a checkout)": None, "RECORD of another package": "other/a.py,,1\n"}
    package = _site(tmp_path, record.get(layout, "pkgx/__init__.py,sha256=x,10\n"))
    if layout == "two dist-infos":
        (package.parent / "pkgx-0.9.dist-info").mkdir()
        (package.parent / "pkgx-0.9.dist-info" / "RECORD").write_text("pkgx/__init__.py,,1\n")
    if layout == "a link":
        (tmp_path / "linked").mkdir()
        package.rename(tmp_path / "linked" / "pkgx")
        package.symlink_to(tmp_path / "linked" / "pkgx")
    first = _keyed(monkeypatch, package)
    (package / "sub" / "mod.py").write_text("B = 22\n")
    assert _keyed(monkeypatch, package) != first


def test_distribution_names_are_normalized_as_wheels_spell_them() -> None:
    from envlock import reportcache

    assert reportcache._distribution("envlock") == "torch_envlock"
    assert reportcache._distribution("packaging") == "packaging"
    names = ["torch-envlock", "PyYAML", "a.b__c", "zope.interface", "x-_-y"]
    assert [reportcache._normalized(n) for n in names] == [
        "torch_envlock", "pyyaml", "a_b_c", "zope_interface", "x_y",
    ]  # fmt: skip
