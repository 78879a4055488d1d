"""Long work is not silent (issue 22 item 5), for real: restore's phases and the
installer's own lines on stderr, one plain line per step in a pipe (no carriage return,
no escape sequence), rich progress on a terminal (a pty), stdout still the report; a
failed install shows the installer's own error with the URL that failed."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest

from tests.commands.test_restore import TINY, _no_uv_env, _uv_env, tiny_lock, tiny_venv
from tests.conftest import REPO, run_envlock
from tests.install.fakeindex import FakeIndex

__all__ = ["tiny_lock", "tiny_venv"]  # the fixtures, shared with test_restore


def _order(text: str, *parts: str) -> None:
    """Each of `parts` is in `text`, in this order."""
    at = 0
    for part in parts:
        found = text.find(part, at)
        assert found >= 0, f"{part!r} not after position {at} in:\n{text}"
        at = found + len(part)


@pytest.mark.venv
@pytest.mark.slow
def test_a_pipe_gets_one_plain_line_per_step_and_stdout_stays_json(
    tiny_lock: Path, tmp_path: Path
) -> None:
    target = tmp_path / "piped"
    args = ["restore", str(tiny_lock), "--venv", str(target), "--installer", "uv"]
    proc = run_envlock([*args, "--format", "json"], env=_uv_env())
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["details"]["venv"] == "replaced"  # progress is not on stdout
    _order(
        proc.stderr,
        "envlock restore: building the venv (python -m venv)\n",
        f"envlock restore: installing {len(TINY)} packages with uv\n",
        "envlock restore:   ",  # uv's own lines, streamed
        f"envlock restore: swapping the new venv into {target}\n",
        "envlock restore: verifying ",
    )
    assert "\r" not in proc.stderr and "\x1b" not in proc.stderr
    # the installer's per-package lines are counted against the lock's packages
    assert f"packages with uv: {len(TINY)}/{len(TINY)}" in proc.stderr


@pytest.mark.venv
@pytest.mark.slow
def test_pip_streams_its_own_lines_per_package(tiny_lock: Path, tmp_path: Path) -> None:
    target = tmp_path / "pip"
    args = ["restore", str(tiny_lock), "--venv", str(target), "--installer", "pip"]
    proc = run_envlock(args, env=_no_uv_env())
    assert proc.returncode == 0, proc.stderr
    _order(
        proc.stderr,
        "envlock restore: building the venv (python -m venv)\n",
        f"envlock restore: installing {len(TINY)} packages with pip\n",
        "envlock restore:   Collecting idna==3.10",
        f"packages with pip: {len(TINY)}/{len(TINY)}",
        "envlock restore: verifying ",
    )
    assert "\r" not in proc.stderr and "\x1b" not in proc.stderr


def _in_a_pty(argv: list[str], env: dict[str, str], out: Path) -> tuple[int, str, str]:
    """Run argv with stderr a terminal (stdout a file): exit status, stdout, the terminal."""
    controller, terminal = pty.openpty()
    with out.open("wb") as stdout:
        proc = subprocess.Popen(
            argv, stdout=stdout, stderr=terminal, stdin=subprocess.DEVNULL, env=env
        )
    os.close(terminal)
    seen = bytearray()
    try:
        while select.select([controller], [], [], 300)[0]:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(controller)
        if proc.poll() is None:
            proc.kill()
    code = proc.wait(timeout=60)
    return code, out.read_text(), seen.decode(errors="replace")


@pytest.mark.venv
@pytest.mark.slow
def test_a_terminal_gets_rich_progress(tiny_lock: Path, tmp_path: Path) -> None:
    target = tmp_path / "tty"
    env = _uv_env(TERM="xterm-256color", COLUMNS="120")
    argv = [sys.executable, "-m", "envlock", "restore", str(tiny_lock), "--venv", str(target)]
    code, out, screen = _in_a_pty([*argv, "--format", "json"], env, tmp_path / "out.json")
    assert code == 0, screen
    assert json.loads(out)["details"]["venv"] == "replaced"
    assert "\x1b[" in screen  # a live display: cursor moves and colours
    assert any(c in screen for c in "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏━")  # rich's spinner or bar
    assert "envlock restore: \u2714 building the venv (python -m venv)" in screen  # a phase ended


def _failing_index_env(index: FakeIndex, *, uv: bool) -> dict[str, str]:
    """Only the fake index: no pip configuration, no uv configuration, no find-links."""
    env = _uv_env() if uv else _no_uv_env()
    env = {k: v for k, v in env.items() if not k.startswith(("PIP_", "UV_"))}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_INDEX_URL=index.url, PIP_RETRIES="0")
    env.update(UV_NO_CONFIG="1", UV_INDEX_URL=index.url, UV_CACHE_DIR=env.get("HOME", "") + "/x")
    return env


@pytest.mark.venv
@pytest.mark.parametrize("installer", ["uv", pytest.param("pip", marks=pytest.mark.slow)])
def test_a_failed_install_shows_the_installers_error_and_its_url(
    installer: str, tiny_lock: Path, tmp_path: Path
) -> None:
    """The index lists six 1.17.0, its file is a 404: the installer's own lines name the
    URL, and so does envlock's one-line error (uv puts it on a line of its own)."""
    unhashed = tmp_path / "unhashed.toml"
    unhashed.write_text(
        "\n".join(ln for ln in tiny_lock.read_text().splitlines() if "[files" not in ln
                  and not ln.startswith(("name =", "url =", "sha256 =")))
    )  # fmt: skip
    index = FakeIndex(versions={"six": "1.17.0", "idna": "3.10"})
    try:
        env = _failing_index_env(index, uv=installer == "uv")
        env["UV_CACHE_DIR"] = str(tmp_path / "uv-cache")
        target = tmp_path / "fails"
        args = ["restore", str(unhashed), "--venv", str(target), "--installer", installer]
        proc = run_envlock(args, env=env)
    finally:
        index.close()
    assert proc.returncode == 3, proc.stderr
    url = f"http://127.0.0.1:{index.port}/files/"
    assert any(s.path.startswith("/files/") for s in index.seen)  # it got as far as a file
    installer_lines = [
        ln for ln in proc.stderr.splitlines() if ln.startswith("envlock restore:   ")
    ]
    assert any(url in ln for ln in installer_lines), proc.stderr
    error = proc.stderr.splitlines()[-1]
    assert error.startswith(f"envlock: error: {installer} failed") and url in error, error
    assert "\r" not in proc.stderr and "\x1b" not in proc.stderr
    assert not target.exists() or not any(target.iterdir())


def test_the_progress_module_imports_no_rich_until_a_terminal_shows_it() -> None:
    code = (
        "import io, sys; from envlock.report.progress import on_stderr; "
        "p = on_stderr('x', stream=io.StringIO()); p.step('a'); p.close(); "
        "print('rich' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True
    )
    assert out.stdout.strip() == "False"
