"""Which interpreter the pre-commit hook verifies (envlock/precommit.py): the activated
venv's, else the project's .venv, else the first python on PATH, never the hook's own."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from envlock.precommit import project_python


def _python(bin_dir: Path, *, venv: bool) -> Path:
    bin_dir.mkdir(parents=True)
    exe = bin_dir / "python"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    if venv:
        (bin_dir.parent / "pyvenv.cfg").write_text("home = /usr/bin\n")
    return exe


def test_the_order(tmp_path: Path) -> None:
    own = str(Path(sys.prefix, "bin"))  # pre-commit puts the hook's environment first
    system = _python(tmp_path / "usr" / "bin", venv=False)
    activated = _python(tmp_path / "work" / "venv" / "bin", venv=True)
    project = tmp_path / "project"
    project.mkdir()
    path = os.pathsep.join([own, str(system.parent)])
    assert project_python(path, project) == (system, "the first python on PATH")
    dotvenv = _python(project / ".venv" / "bin", venv=True)
    assert project_python(path, project) == (dotvenv, "the project's .venv")
    path = os.pathsep.join([own, str(activated.parent), str(system.parent)])
    assert project_python(path, project) == (activated, "the activated venv")
    assert project_python(own, tmp_path) == (None, "the first python on PATH")
