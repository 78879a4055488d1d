"""What a replayed repeat `envlock restore LOCK --venv DIR` imports (issue 23's restore
row: on a busy machine its wait follows envlock's CPU beside uv's). Modules the replay
has no use for: pathlib with urllib.parse and ipaddress (~4 ms; usecases/warmrestore.py
names its cache directory and stored output with os.path), typing (~2-3 ms;
report/__init__.py and install/venvfacts.py name their types for the type checker
only), importlib.util (~0.5 ms; reportcache._package_dir asks sys.meta_path's finders
itself), shutil with fnmatch, zlib, bz2 and lzma (~2 ms; install/quick.py removes the
venv a repeat restore replaced with a walk of its own: the second and third runs below
restore over the first's venv), threading (~0.7 ms; childio.py's time limit is a bare
_thread), contextlib (~0.5 ms; install/early, swap and restore catch OSError themselves)
and envlock.livecache (install/venvfacts.preload() loaded it for nothing the replay
reads). Run as users run it, through the console script's cli.entry() under -S: a
user's venv imports none of these at start, where this machine's .pth files do. A real
lock, real uv, real venvs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.commands.test_restore_warm import BARE, bare_restores

pytestmark = [pytest.mark.venv, pytest.mark.slow]

# test_restore_warm's hook, each import written at once: envlock ends without flushing
# what is still buffered (cli.leave: os._exit)
_LOGGED = 'log.write(args[0] + "\\n")'
assert _LOGGED in BARE
HOOK = BARE.replace(_LOGGED, _LOGGED + "; log.flush()")


def _replayed_imports(tmp_path: Path) -> list[str]:
    """The modules a replayed restore imported after the console script's `import re`,
    in order ("uv" where uv started); the run before it verified and stored the output."""
    *_, (proc, seen) = bare_restores(tmp_path, HOOK)  # plan; verify, stored; replayed
    assert proc.stdout.startswith("PASS")
    assert "uv" in seen and "argparse" not in seen, seen  # replayed: no CLI
    return seen


def test_a_replayed_restore_imports_none_of_what_it_has_no_use_for(tmp_path: Path) -> None:
    seen = _replayed_imports(tmp_path)
    # envlock/childio.py's Protocol is for the type checker only: typing is no import either
    modules = ("pathlib", "urllib.parse", "ipaddress", "importlib.util", "typing", "shutil",
               "bz2", "threading", "contextlib", "envlock.livecache")  # fmt: skip
    found = {m for m in modules if m in seen}
    assert found == set(), seen
