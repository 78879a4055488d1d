"""The venv step restore runs in its own process (install/early.py): `python -m venv
--without-pip` of envlock's interpreter, built by the venv module here instead of a child,
is the venv that command builds; a failure is one line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from envlock.errors import RestoreError
from envlock.install.early import venv_here, venv_step
from tests.install.test_swap import tree


def _argv(python: str, where: Path) -> tuple[str, ...]:
    return (python, "-m", "venv", "--without-pip", "--prompt", "p", str(where))


def _tree(root: Path) -> dict[str, str]:
    """Every entry under root: a link's target, a file's text with root's path as ROOT."""
    return tree(root, lambda path: path.read_text().replace(str(root), "ROOT"))


def test_a_venv_built_here_is_the_one_python_m_venv_builds(tmp_path: Path) -> None:
    here, child = tmp_path / "here", tmp_path / "child"
    assert venv_here(_argv(sys.executable, here))
    assert venv_step(_argv(sys.executable, here)) is None  # no process started
    subprocess.run(_argv(sys.executable, child), check=True)
    assert _tree(here) == _tree(child)
    assert (here / "bin" / "python").resolve() == Path(sys.executable).resolve()
    done = subprocess.run(
        [str(here / "bin" / "python"), "-c", "import sys; print(sys.prefix)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == str(here)


def test_another_interpreter_or_a_venv_with_pip_is_a_child(tmp_path: Path) -> None:
    assert not venv_here(_argv("/bin/sh", tmp_path / "v"))
    with_pip = (sys.executable, "-m", "venv", "--prompt", "p", str(tmp_path / "v"))
    assert not venv_here(with_pip)


def test_a_venv_that_cannot_be_built_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(RestoreError) as err:
        venv_step(_argv(sys.executable, blocker / "venv"))
    assert "\n" not in str(err.value) and str(err.value).startswith("venv failed")
    assert blocker.read_text() == "not a directory"
