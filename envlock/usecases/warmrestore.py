"""A repeat `envlock restore LOCK --venv DIR`, run before the CLI loads (issue 23).

The install is most of a restore's wait, yet the CLI's parser, the API, the lock's
models (read, held, planned) and verify's Report take more CPU than the installer
itself on a busy machine, and all of it used to run before or beside it. So the entry
points (`python -m envlock`, cli.entry) ask here first, for a plain argv only
(install/ahead.plain_restore: `restore LOCK --venv DIR` with --installer, --format,
--strict), when an earlier restore of the same lock bytes, options and envlock code left
its plan (install/plancache.py: the guess, which also says how many packages it pins,
which facts sections verify reads and verify's --rule):

- the venv is built and the guessed install started at once (install/ahead.start):
  with uv, where install/quickplan.py holds the plan for the lock file as it is (by its
  stat), before anything is imported that a Python start has not loaded
  (install/quick.py), the plan's real key checked once uv runs;
- without the lock's models, when torch's live facts are not compared and neither
  stream is a terminal: the install runs and is swapped in, told line for line as the
  full path tells it (install/restore.install_guessed), the new venv's facts document
  read from its files (install/venvfacts.py), and the output a full run printed for
  this verify's Report key (plancache.report_key: the key's lock bytes, path, options
  and code, the document, verify's settings) with the same argv, working directory,
  environment, interpreter and streams is replayed: the new venv kept (commit), the
  stored stderr and stdout written, the stored exit code returned;
- a miss hands the swapped-in venv to the full CLI (usecases/restore.py takes it over:
  its own plan must confirm the guess, or the venv goes back and is built again from
  scratch), whose verify decides; its output is recorded and stored when the new venv
  was kept with nothing else said (a clean commit) and the exit code is 0 or 1;
- otherwise the full CLI takes over what was started (install/ahead.take).

What the stored output cannot see is what the report cache cannot (reportcache.py).
`--no-cache` (not a plain argv) uses none of it.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing costs ~4 ms of this path
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from envlock.install.ahead import Inputs
    from envlock.install.early import Started
    from envlock.install.plancache import Guess

FORMAT = 1
_MAGIC = b"envlock-restore-output"
PREFIX = "envlock restore"  # commands/restore.py's progress prefix


def ahead(
    argv: Sequence[str],
    full: Callable[[list[str]], int],
    failed: Callable[[BaseException], int],
) -> int | None:
    """The exit code of a plain repeat restore (replayed, or `full(argv)` after what was
    started ahead; `failed(exc)`: the CLI's line and code for what ended it), or None:
    nothing was started, run the full CLI as usual."""
    from envlock.install import ahead as early

    plain = early.plain_restore(argv)
    if plain is None:
        return None
    try:
        found = early.start(*plain)
    except KeyboardInterrupt as exc:
        return failed(exc)
    if found is None:
        return None
    started, guess, inputs = found
    try:
        if guess is None or inputs[3] is None or not _replayable(guess):
            return full(list(argv))
        return _finish(list(argv), full, failed, (started, guess, inputs[3], inputs))
    finally:
        early.release()


def _replayable(guess: Guess) -> bool:
    """Whether the run may end here: the guess knows what verify reads, no live facts
    (a child importing torch) are compared, progress prints lines (no terminal) and
    stdout takes bytes."""
    stdout, stderr = sys.stdout, sys.stderr
    if guess.live or not guess.sections or not hasattr(stdout, "buffer"):
        return False
    return not (stdout.isatty() or stderr.isatty())


def _finish(
    argv: list[str],
    full: Callable[[list[str]], int],
    failed: Callable[[BaseException], int],
    found: tuple[Started, Guess, str, Inputs],
) -> int:
    """Install, swap in, then the stored output or the full CLI's verify."""
    from envlock.install import ahead as early
    from envlock.install.restore import install_guessed
    from envlock.report.progress import on_stderr

    started, guess, key, inputs = found
    progress = on_stderr(PREFIX)
    try:
        installer = "uv" if started.launch and started.launch.argv[0] == "uv" else "pip"
        started = install_guessed(
            started, guess.pins, installer=installer, log=early.log, progress=progress,
            meanwhile=lambda: _preload(guess.sections),
        )  # fmt: skip
        python = os.path.join(started.swap.target.final, "bin", "python")
        progress.step(f"verifying {python} against the lock (--scope software)")
        entry, stored = _stored(argv, python, guess, key)
        if stored is not None:
            started.swap.commit()
    except BaseException as exc:
        started.abandon()  # a no-op once swapped in and committed
        progress.close()
        return failed(exc)
    progress.close()
    if stored is not None:
        return _replay(*stored)
    early.hold(inputs, started)  # for the full CLI to take over
    return _recorded(argv, full, started, entry)


def _preload(sections: Sequence[str]) -> None:
    """What reading the new venv's facts and replaying the output import, loaded while
    the installer runs, with what those facts hold of the machine (the CUDA toolkit's
    where verify reads the cuda section)."""
    import envlock.usecases.warmverify  # noqa: F401  (write_all)
    from envlock.install.venvfacts import preload

    preload(_cache_dir(), cuda="cuda" in sections)


def _stored(
    argv: list[str], python: str, guess: Guess, key: str
) -> tuple[str | None, tuple[int, bytes, bytes] | None]:
    """The stored output's key and what it holds; (None, None) where the new venv's
    files cannot tell its facts or anything unusual happened (the full CLI verifies)."""
    try:
        entry = _output_key(argv, python, guess, key)
        return entry, None if entry is None else load(_cache_dir(), entry)
    except Exception:
        return None, None


def _output_key(argv: list[str], python: str, guess: Guess, key: str) -> str | None:
    """The stored output's key: verify's Report key for the new venv's facts document
    (None when its files cannot tell them), the argv, the working directory, the whole
    environment, the interpreter and its streams."""
    from envlock import reportcache
    from envlock.install.plancache import report_key
    from envlock.install.venvfacts import venv_document

    doc = venv_document(python, guess.sections, cache_dir=_cache_dir())
    if doc is None:
        return None
    settings = (guess.rules, (), "--strict" in argv)  # usecases/restore._verified's
    interpreter = [sys.executable, sys.version, repr(sys.flags), repr(sys.path)]
    for stream in (sys.stdout, sys.stderr):
        interpreter += [str(getattr(stream, "encoding", "")), str(getattr(stream, "errors", ""))]
    h = reportcache.new_sha256()  # not reportcache.key(): the report key holds the code's
    for part in (
        b"restore-output %d" % FORMAT,
        report_key(key, doc, None, settings).encode(),
        b"\0".join(os.fsencode(a) for a in argv),
        os.fsencode(os.getcwd()),
        b"\0".join(k + b"=" + v for k, v in sorted(os.environb.items())),
        "\0".join(interpreter).encode("utf-8", "surrogateescape"),
    ):
        h.update(len(part).to_bytes(8, "big"))  # no two parts run into each other
        h.update(part)
    return h.hexdigest()


def _replay(code: int, err: bytes, out: bytes) -> int:
    """The stored output written as the full CLI wrote it, and its exit code."""
    from envlock.usecases.warmverify import write_all

    write_all(sys.stderr, err)
    write_all(sys.stdout, out)
    return code


def _recorded(
    argv: list[str], full: Callable[[list[str]], int], started: Started, entry: str | None
) -> int:
    """full(argv) verifying the venv handed over, its output recorded and stored when
    the venv was kept and nothing but the verdict was said."""
    from envlock.usecases.warmverify import Recorder

    out, err = Recorder(sys.stdout), Recorder(sys.stderr)
    sys.stdout, sys.stderr = out, err
    try:
        code = full(argv)
    finally:
        sys.stdout, sys.stderr = out.stream, err.stream
    if entry is None or not started.swap.kept or out.failed or err.failed or code not in (0, 1):
        return code
    try:
        data = [r.text.encode(r.stream.encoding, r.stream.errors or "strict") for r in (err, out)]
    except (UnicodeError, LookupError, TypeError):
        return code
    store(_cache_dir(), entry, code, data[0], data[1])
    return code


def _cache_dir() -> str:
    """livecache.cache_dir() as a string: pathlib (~3-4 ms of CPU: urllib.parse,
    ipaddress) is no import of a replayed restore."""
    from envlock.install.quickplan import cache_dir

    return cache_dir()


def _entry(cache_dir: str, key: str) -> str:
    return os.path.join(cache_dir, "reports", f"restore-{key[:40]}.out")


def load(cache_dir: str, key: str) -> tuple[int, bytes, bytes] | None:
    """(exit code, stderr's bytes, stdout's bytes) stored under `key`, or None (a miss,
    whatever went wrong)."""
    from envlock.reportcache import MAX_ENTRY_BYTES
    from envlock.safeio import UnreadableFile, read_bounded

    try:
        data = read_bounded(_entry(cache_dir, key), limit=MAX_ENTRY_BYTES)
    except UnreadableFile:
        return None
    head, _, body = data.partition(b"\n")
    fields = head.split(b" ")
    if len(fields) != 5 or fields[0] != _MAGIC or fields[1] != key.encode():
        return None
    if fields[2] not in (b"0", b"1") or not all(f.isdigit() for f in fields[3:]):
        return None
    n_err, n_out = int(fields[3]), int(fields[4])
    if n_err + n_out != len(body):
        return None
    return int(fields[2]), body[:n_err], body[n_err:]


def store(cache_dir: str, key: str, code: int, err: bytes, out: bytes) -> None:
    """Best effort, atomic; the newest reportcache.MAX_ENTRIES kept (after the full CLI,
    which has loaded pathlib)."""
    from pathlib import Path

    from envlock.usecases.warmverify import store_entry

    head = b" ".join((_MAGIC, key.encode(), str(code).encode(), b"%d" % len(err), b"%d" % len(out)))
    store_entry(Path(_entry(cache_dir, key)), head + b"\n" + err + out, "restore-*.out")
