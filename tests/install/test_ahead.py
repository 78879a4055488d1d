"""install/ahead.py: which argv start a restore before the CLI loads, and what no one
took over is stopped with DIR put back as it was."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from envlock.install import ahead, quick
from envlock.install.restore import INSTALLERS
from tests.install.test_swap import tree


def test_the_installers_are_restores() -> None:
    assert quick.INSTALLERS == INSTALLERS  # a plain argv's (install/quick.py)


@pytest.mark.parametrize(
    ("argv", "plain"),
    [
        (["restore", "L", "--venv", "D"], ("L", "D", "auto")),
        (["restore", "--venv", "D", "L", "--installer", "uv"], ("L", "D", "uv")),
        (["restore", "L", "--venv", "D", "--format", "json", "--strict"], ("L", "D", "auto")),
        (["restore", "L", "--venv", "D", "--no-cache"], None),
        (["restore", "L", "--venv", "D", "--force"], None),
        (["restore", "L", "--python", "P"], None),
        (["restore", "L", "--venv", "D", "--venv", "E"], None),
        (["restore", "L", "--ven", "D"], None),  # argparse's abbreviations are its own
        (["restore", "L", "--venv=D"], None),
        (["restore", "L", "--venv", "-D"], None),
        (["restore", "L", "M", "--venv", "D"], None),
        (["restore", "L", "--venv", "D", "--installer", "conda"], None),
        (["restore", "L", "--venv", "D", "--format", "yaml"], None),
        (["restore", "--venv", "D"], None),
        (["-q", "restore", "L", "--venv", "D"], None),
        (["verify", "L"], None),
    ],
)
def test_only_a_plain_restore_starts_ahead(argv: list[str], plain: object) -> None:
    assert ahead.plain_restore(argv) == plain


@pytest.mark.parametrize("existing", [True, False], ids=["existing-venv", "new-dir"])
def test_what_no_one_took_over_is_stopped_and_dir_put_back(tmp_path: Path, existing: bool) -> None:
    venv = tmp_path / "v"
    if existing:
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    before = tree(venv)
    lock = tmp_path / "envlock.lock.toml"
    lock.write_text("[envlock]\n")
    found = ahead.start(str(lock), str(venv), "pip")
    assert found is not None and ahead.pending()
    assert any(p.name.startswith(".envlock-restore") for p in venv.iterdir())
    ahead.release()
    assert not ahead.pending()
    assert tree(venv) == before
    started = found[0]
    assert started.proc is None or started.proc.poll() is not None
