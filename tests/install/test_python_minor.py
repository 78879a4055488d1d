"""restore asks the base interpreter its version only when it is not the one running
envlock (a child process is ~0.2 s of every `restore --venv` on a small machine)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from envlock.install.restore import python_minor


def test_the_running_interpreter_is_not_started_again(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_child(*args: object, **kwargs: object) -> None:
        raise AssertionError("started a child to learn its own version")

    monkeypatch.setattr(subprocess, "run", no_child)
    assert python_minor(sys.executable) == f"{sys.version_info[0]}.{sys.version_info[1]}"


def test_another_interpreter_is_asked(tmp_path: Path) -> None:
    wrapper = tmp_path / "python"  # a wrapper script: another file, run to be asked
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    wrapper.chmod(0o755)
    assert python_minor(str(wrapper)) == f"{sys.version_info[0]}.{sys.version_info[1]}"
