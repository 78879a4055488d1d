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


def test_the_child_starts_once_its_package_is_in_not_at_stdins_end() -> None:
    """The package is read by its length: a daemon passes stdin's end on ~20 ms after the
    bytes, and the probe must not wait for it (stdin is left open here: it never ends)."""
    codes = {"probe_t/m.py": marshal.dumps(compile(SOURCE, "compiled-by-the-host", "exec"))}
    argv = stdin_command(sys.executable, ENTRY, ["a", "b"])
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write(stdin_payload(FILES, codes, importlib.util.MAGIC_NUMBER))
        proc.stdin.flush()  # and not closed
        assert proc.wait(timeout=30) == 3
        assert proc.stdout.read() == b"compiled-by-the-host a b\n"
    finally:
        proc.kill()
        proc.stdin.close()
        proc.stdout.close()
        proc.wait()


def test_a_package_cut_short_ends_in_one_line() -> None:
    """A host that died mid-write: one line and exit 3, no traceback."""
    payload = stdin_payload(FILES, {}, importlib.util.MAGIC_NUMBER)
    argv = stdin_command(sys.executable, ENTRY, [])
    for cut in (0, 5, len(payload) // 2, len(payload) - 1):
        proc = subprocess.run(argv, input=payload[:cut], capture_output=True, timeout=60)
        assert proc.returncode == 3, (cut, proc.stderr)
        assert proc.stderr.count(b"\n") == 1 and b"Traceback" not in proc.stderr


def test_the_served_probe_leaves_without_the_interpreters_teardown() -> None:
    """Its output flushed, the probe's process ends at once (os._exit): tearing down its
    modules and threads cost ~10 ms of every container probe. An atexit handler
    registered before the bootstrap shows whether the teardown ran."""
    argv, stdin = python_stdin("image:x", torch_live=False, timeout=60.0, with_pynvml=False)
    argv[2] = "import atexit\natexit.register(print, 'torn down')\n" + argv[2]
    proc = subprocess.run(argv, input=stdin, capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert b"torn down" not in proc.stdout
    assert json.loads(proc.stdout)["meta"]["target"] == "image:x"
