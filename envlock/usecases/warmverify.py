"""`envlock verify` and `envlock doctor` on an unchanged machine, answered with the output
they printed last time.

A warm verify's or doctor's report comes from the report cache (reportcache.py), yet
loading the CLI's parser, the API, the Report's dataclasses and a renderer cost more than
the probe that decides whether the report still holds. So the entry points (cli.entry,
`python -m envlock`) ask here first, before any of that is imported:

- argv is a plain verify or doctor of this host: `verify [LOCK]` with only --format,
  --scope, --strict, --ignore, --rule and --no-determinism; `doctor` with only --format,
  --strict, --ignore and --expect; stdout not a terminal. Anything else (another
  command, -o, --no-cache, --python, --plan, a terminal...) goes to the full CLI.
- This host is probed as the command's full path probes it (torch's live facts from
  their cache, NVML read fresh; verify's locked sections, the doctor's all), and
  verify's lock read as it reads it.
- The key: the facts document as probed now (what reportcache.document_bytes keeps),
  verify's lock bytes, argv, the working directory, the whole environment, the
  interpreter and its flags, stdout's encoding, and the code stamp of envlock's and
  packaging's files (reportcache.key).
- A hit writes the stored bytes to stdout and returns the stored exit code. A miss runs
  the full CLI with this probe handed over (livecache.probe_ahead: never probed twice)
  and its output recorded; the output is stored only when the report itself came from
  or went into the report cache (the same rules: no fresh determinism digests, no
  replaced live-facts entry), nothing was written to stderr, the reader took all of it,
  and the exit code is 0 or 1.

What it cannot see is what the report cache cannot (its docstring). Entries live beside
the report cache's, written atomically, at most reportcache.MAX_ENTRIES; an entry that
cannot be read or names another key is a miss.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing costs ~4 ms of the warm path
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence
    from pathlib import Path
    from typing import TextIO

    from envlock.livecache import Probed

FORMAT = 1
# The probe's sections a lock's fields come from, and those the live-facts cache's key
# reads: the others (compilers, network) are not compared, so verify's own probe of this
# host skips them. (usecases/verify.py's; here so that the warm path imports no more.)
LOCKED_SECTIONS = ("system", "driver", "cuda", "torch", "packages", "env", "extensions")
# collect.PROBE_TIMEOUT_S, verify's default --probe-timeout (a test holds them equal)
PROBE_TIMEOUT_S = 60.0
# verify's options a warm run may carry: whether each takes a value
_OPTIONS = {
    "--format": True,
    "--scope": True,
    "--ignore": True,
    "--rule": True,
    "--strict": False,
    "--no-determinism": False,
}
# the doctor's (commands/doctor.py): no source, plan, -o, --list-checks or --no-cache
_DOCTOR_OPTIONS = {"--format": True, "--ignore": True, "--expect": True, "--strict": False}
_DEFAULT_LOCK = "envlock.lock.toml"  # commands/verify.DEFAULT_LOCK_NAME (a test holds it)
_MAGIC = b"envlock-output"


def lock_of(argv: Sequence[str]) -> str | None:
    """The lock a plain `envlock verify` names, or None when argv is anything else."""
    if not argv or argv[0] != "verify":
        return None
    rest = _positional(argv[1:], _OPTIONS)
    if rest is None or len(rest) > 1:
        return None
    return rest[0] if rest else _DEFAULT_LOCK


def plain_doctor(argv: Sequence[str]) -> bool:
    """A plain `envlock doctor` of this host: no argument but _DOCTOR_OPTIONS."""
    return bool(argv) and argv[0] == "doctor" and _positional(argv[1:], _DOCTOR_OPTIONS) == []


def _positional(args: Sequence[str], options: dict[str, bool]) -> list[str] | None:
    """The arguments that are no option's, or None: another option, or a value that
    looks like an option (argparse decides)."""
    found: list[str] = []
    rest = iter(args)
    for arg in rest:
        if arg in options:
            if options[arg] and next(rest, "-").startswith("-"):
                return None
        elif arg.startswith("-"):
            return None
        else:
            found.append(arg)
    return found


def run(argv: Sequence[str], full: Callable[[list[str]], int]) -> int | None:
    """The exit code of `envlock verify` or `envlock doctor` for a plain one (from the
    stored output, or `full(argv)` with its output recorded), or None: run the full CLI."""
    lock = lock_of(argv)
    stdout = sys.stdout
    if lock is None and not plain_doctor(argv):
        return None
    if not hasattr(stdout, "buffer") or stdout.isatty():
        return None
    try:
        key, probed = _key(list(argv), lock)
        stored = None if key is None else load(_cache_dir(), key)
    except KeyboardInterrupt:
        print("envlock: interrupted", file=sys.stderr)
        exec("")  # cli.main's reason: a Ctrl-C inside an exec() would kill the exit code
        return 130
    except Exception:  # anything unusual: the full CLI says what (and probes again)
        return None
    if stored is not None:
        # not inside the try above: output begun is never written twice by the full CLI
        write_all(stdout, stored[1])
        return stored[0]
    return None if key is None else _recorded(list(argv), full, key, probed)


def _key(argv: list[str], lock: str | None) -> tuple[str | None, Probed | None]:
    """The stored output's key for verify (`lock`) or the doctor (None), and the probe."""
    from envlock import livecache, reportcache
    from envlock.safeio import UnreadableFile, read_bounded

    try:
        raw = b"" if lock is None else read_bounded(lock)
    except UnreadableFile:
        return None, None  # verify says why, in its own words
    sections = None if lock is None else LOCKED_SECTIONS  # the doctor reads every one
    probed = livecache.probe_ahead(timeout=PROBE_TIMEOUT_S, sections=sections)
    stream = sys.stdout
    interpreter = [sys.executable, sys.version, repr(sys.flags), repr(sys.path)]
    interpreter += [str(getattr(stream, "encoding", "")), str(getattr(stream, "errors", ""))]
    key = reportcache.key(
        f"{argv[0]}-output",
        str(FORMAT).encode(),
        b"\0".join(os.fsencode(a) for a in argv),
        os.fsencode(os.getcwd()),
        raw,
        reportcache.document_bytes(probed.document),
        b"\0".join(k + b"=" + v for k, v in sorted(os.environb.items())),
        "\0".join(interpreter).encode("utf-8", "surrogateescape"),
    )
    return key, probed


def _cache_dir() -> Path:
    from envlock.livecache import cache_dir

    return cache_dir()


def _entry(cache_dir: Path, key: str) -> Path:
    return cache_dir / "reports" / f"output-{key[:40]}.out"


def load(cache_dir: Path, key: str) -> tuple[int, bytes] | None:
    """(exit code, stdout's bytes) stored under `key`, or None (a miss, whatever went wrong)."""
    from envlock.reportcache import MAX_ENTRY_BYTES
    from envlock.safeio import UnreadableFile, read_bounded

    try:
        data = read_bounded(_entry(cache_dir, key), limit=MAX_ENTRY_BYTES)
    except UnreadableFile:
        return None
    head, _, body = data.partition(b"\n")
    fields = head.split(b" ")
    if len(fields) != 4 or fields[0] != _MAGIC or fields[1] != key.encode():
        return None
    if fields[2] not in (b"0", b"1") or fields[3] != str(len(body)).encode():
        return None
    return int(fields[2]), body


def store(cache_dir: Path, key: str, code: int, data: bytes) -> None:
    """Best effort, atomic; the newest reportcache.MAX_ENTRIES outputs are kept."""
    path = _entry(cache_dir, key)
    head = b" ".join((_MAGIC, key.encode(), str(code).encode(), str(len(data)).encode()))
    store_entry(path, head + b"\n" + data, "output-*.out")


def store_entry(path: Path, data: bytes, pattern: str) -> None:
    """An output entry written atomically (none larger than load() accepts: every run
    would write it again); the newest reportcache.MAX_ENTRIES of `pattern` kept."""
    from envlock.picklecache import write_entry
    from envlock.reportcache import MAX_ENTRIES, MAX_ENTRY_BYTES

    if len(data) > MAX_ENTRY_BYTES:
        return
    try:
        write_entry(path, data, pattern, MAX_ENTRIES)
    except OSError:
        return


def write_all(stdout: TextIO, data: bytes) -> None:
    """The stored bytes, as the full CLI wrote them; a reader that left early changes
    nothing (cli.ReaderMayLeave: the exit code is the report's)."""
    try:
        stdout.flush()
        stdout.buffer.write(data)
        stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, stdout.fileno())  # the interpreter's last flush goes there
        finally:
            os.close(devnull)


def _recorded(
    argv: list[str], full: Callable[[list[str]], int], key: str, probed: Probed | None
) -> int:
    """full(argv), its output recorded and stored when it may stand for the next run."""
    out, err = Recorder(sys.stdout), Recorder(sys.stderr)
    sys.stdout, sys.stderr = out, err
    try:
        code = full(argv)
    finally:
        sys.stdout, sys.stderr = out.stream, err.stream
    if probed is None or not probed.reused or err.text or out.failed or code not in (0, 1):
        return code
    try:
        data = out.text.encode(out.stream.encoding, out.stream.errors or "strict")
    except (UnicodeError, LookupError, TypeError):
        return code
    store(_cache_dir(), key, code, data)
    return code


class Recorder:
    """A stream that keeps what is written through it and passes it on."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._parts: list[str] = []
        self.failed = False  # a write or flush that raised (the reader left)

    @property
    def text(self) -> str:
        return "".join(self._parts)

    def write(self, text: str) -> int:
        self._parts.append(text)
        try:
            return self.stream.write(text)
        except BaseException:
            self.failed = True
            raise

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        try:
            self.stream.flush()
        except BaseException:
            self.failed = True
            raise

    def __getattr__(self, name: str) -> object:
        return getattr(self.stream, name)
