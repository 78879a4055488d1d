"""The code stamp of a repeat restore's keys (reportcache._code_dirs: envlock's package
and packaging's) found as importlib.util.find_spec finds a package, without importing
importlib.util (~0.5 ms of a replayed restore, issue 23's restore row)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
