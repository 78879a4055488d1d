"""The probe's package on stdin reaches a new container 20-30 ms after its python3 starts
(the daemon's stdin plumbing): STDIN_BOOTSTRAP imports the standard library modules the
probe needs (payload.PRELOAD) meanwhile, a thread reading the package. Those modules are
ones the probe imports anyway, a missing one is passed over, and a package cut short still
ends in one line."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from envlock.payload import PRELOAD, PROBE_ENTRY, python_stdin
from envlock.probe._served import stdin_command, stdin_payload
from tests.container.conftest import PY_IMAGE, RUN_LABELS, docker_env

ENTRY = "probe_t.m:main"
SOURCE = "import sys\ndef main(args):\n    print('ran', 'envlock_t_preloaded' in sys.modules)\n    return 3\n"
FILES = {"probe_t/__init__.py": "", "probe_t/m.py": SOURCE}


def test_the_preload_is_imported_before_the_package_arrives(tmp_path: Path) -> None:
    """A preloaded module that says so when imported: its line comes while stdin is still
    empty (the old bootstrap read stdin first and would wait here for ever)."""
    (tmp_path / "envlock_t_preloaded.py").write_text("import sys\nprint('preloaded', flush=True)\n")
    argv = stdin_command(sys.executable, ENTRY, [], preload=("envlock_t_preloaded",))
    env = {"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"}
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
    assert proc.stdin is not None and proc.stdout is not None
    first: list[bytes] = []
    reader = threading.Thread(target=lambda: first.append(proc.stdout.readline()))  # type: ignore[union-attr]
    try:
        reader.start()
        reader.join(60)
        assert first == [b"preloaded\n"]
        proc.stdin.write(stdin_payload(FILES, {}, importlib.util.MAGIC_NUMBER))
        proc.stdin.close()
        assert proc.wait(timeout=60) == 3
        assert proc.stdout.read() == b"ran True\n"
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()


def test_an_error_while_the_package_is_on_its_way_is_said_as_it_was(tmp_path: Path) -> None:
    """What escapes the bootstrap while its reader waits on stdin (a python3 without json,
    here a preload that exits) ends as it did before the reader: the reader is done first,
    else the interpreter's exit dies on stdin's lock ("Fatal Python error", no message)."""
    (tmp_path / "envlock_t_exits.py").write_text(
        "import sys\nprint('preloaded', flush=True)\nsys.exit('no json here')\n"
    )
    argv = stdin_command(sys.executable, ENTRY, [], preload=("envlock_t_exits",))
    env = {"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"}
    proc = subprocess.Popen(
        argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    try:
        assert proc.stdout.readline() == b"preloaded\n"  # the reader waits: nothing sent yet
        proc.stdin.write(stdin_payload(FILES, {}, importlib.util.MAGIC_NUMBER))
        proc.stdin.close()
        assert proc.wait(timeout=60) == 1
        assert proc.stderr.read() == b"no json here\n"
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()
        proc.stderr.close()


def test_a_preload_this_python_lacks_is_passed_over() -> None:
    argv = stdin_command(sys.executable, ENTRY, ["a"], preload=("envlock_no_such_module",))
    payload = stdin_payload(FILES, {}, importlib.util.MAGIC_NUMBER)
    proc = subprocess.run(argv, input=payload, capture_output=True, timeout=60)
    assert (proc.returncode, proc.stdout, proc.stderr) == (3, b"ran False\n", b"")


def test_a_package_cut_short_with_a_preload_ends_in_one_line() -> None:
    payload = stdin_payload(FILES, {}, importlib.util.MAGIC_NUMBER)
    argv = stdin_command(sys.executable, ENTRY, [], preload=PRELOAD)
    for cut in (0, 19, len(payload) - 1):
        proc = subprocess.run(argv, input=payload[:cut], capture_output=True, timeout=60)
        assert proc.returncode == 3, (cut, proc.stderr)
        assert proc.stderr == b"envlock: the probe's package on stdin was cut short\n"


def test_the_image_probe_is_served_with_the_preload() -> None:
    argv, _stdin = python_stdin("image:x", torch_live=True, timeout=60.0, with_pynvml=False)
    assert argv[3:] == [PROBE_ENTRY, *PRELOAD, "--", "--target", "image:x", "--timeout", "60"]


@pytest.mark.docker
@pytest.mark.usefixtures("images")
def test_the_probe_imports_every_preloaded_module_without_the_preload() -> None:
    """In the Debian test image, the probe served without a preload imports each module of
    PRELOAD itself: the preload moves imports earlier, it adds none."""
    argv, stdin = python_stdin("image:x", torch_live=True, timeout=60.0, with_pynvml=False)
    bare = [*argv[: argv.index(PROBE_ENTRY) + 1], *argv[argv.index("--") :]]
    run = ["docker", "run", "--rm", "-i", *RUN_LABELS, "--network", "none", PY_IMAGE]
    proc = subprocess.run(
        [*run, bare[0], "-X", "importtime", *bare[1:]],
        input=stdin,
        capture_output=True,
        env=docker_env(),
        timeout=120,
        check=True,
    )
    imported = set(re.findall(r"\| +(\S+)\n", proc.stderr.decode()))
    assert b'"facts_version"' in proc.stdout
    assert set(PRELOAD) <= imported, set(PRELOAD) - imported
