"""The probe's package on stdin (probe/_served.STDIN_BOOTSTRAP, payload.python_stdin):
the same document as the command-line package; the host's bytecode used only by a
Python of the same magic number and only where it is that of the file as it is now."""

from __future__ import annotations

import importlib.util
import json
import marshal
import py_compile
import subprocess
import sys
from pathlib import Path

from envlock.payload import _bytecode, python_command, python_stdin
from envlock.probe._served import stdin_command, stdin_payload

ENTRY = "probe_t.m:main"
SOURCE = "import sys\ndef main(args):\n    print(main.__code__.co_filename, *args)\n    return 3\n"
FILES = {"probe_t/__init__.py": "", "probe_t/m.py": SOURCE}


def _run(magic: bytes) -> subprocess.CompletedProcess[str]:
    codes = {"probe_t/m.py": marshal.dumps(compile(SOURCE, "compiled-by-the-host", "exec"))}
    argv = stdin_command(sys.executable, ENTRY, ["a", "b"])
    return subprocess.run(
        argv, input=stdin_payload(FILES, codes, magic), capture_output=True, timeout=60
    )


def test_a_child_of_the_hosts_magic_number_runs_the_hosts_code() -> None:
    proc = _run(importlib.util.MAGIC_NUMBER)
    assert (proc.returncode, proc.stdout, proc.stderr) == (3, b"compiled-by-the-host a b\n", b"")


def test_a_child_of_another_magic_number_compiles_the_sources() -> None:
    proc = _run(b"\x00\x01\r\n")
    assert (proc.returncode, proc.stderr) == (3, b"")
    assert proc.stdout == b"/<envlock-probe>/probe_t/m.py a b\n"


def test_the_probe_on_stdin_is_the_probe_in_the_command_line() -> None:
    options = {"torch_live": False, "timeout": 60.0, "with_pynvml": False}
    argv, stdin = python_stdin("image:x", **options)
    assert len(json.dumps(argv)) < 8192
    by_stdin = subprocess.run(argv, input=stdin, capture_output=True, timeout=120, check=True)
    by_argv = subprocess.run(
        python_command("image:x", **options), capture_output=True, timeout=120, check=True
    )
    a, b = json.loads(by_stdin.stdout), json.loads(by_argv.stdout)
    for doc in (a, b):
        del doc["meta"]["collected_at"], doc["meta"]["durations_ms"]
    assert a == b


def test_the_hosts_bytecode_is_used_only_for_the_file_as_it_is(tmp_path: Path) -> None:
    module = tmp_path / "mod.py"
    module.write_text("X = 1\n")
    py_compile.compile(str(module), invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP)
    code = _bytecode(str(module))
    assert code is not None
    namespace: dict[str, object] = {}
    exec(marshal.loads(code), namespace)
    assert namespace["X"] == 1
    module.write_text("X = 22\n")  # another size: the cached code is not this file's
    assert _bytecode(str(module)) is None
    py_compile.compile(str(module), invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)
    assert _bytecode(str(module)) is None  # a hash-checked pyc: not read
    assert _bytecode(str(tmp_path / "absent.py")) is None
    assert _bytecode(None) is None
