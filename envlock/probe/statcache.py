"""What the probe's child processes say where only files decide it, cached by those files' stat.

`ldconfig -p`, `nvcc --version`, the compilers' `--version` and the ctypes child that
loads libcudart and libcuda (probe/cudalibs.py, probe/toolchain.py) cost most of a probe
without torch's child (tens of ms of CPU, ~100 ms wall), and what they print changes
only when a file does. So do what each distribution's RECORD and METADATA say (the
shared objects the extension scan examines, the Requires-Dist lines): reading and
matching every line of every RECORD was a third of a warm probe's CPU; and torch's
version.py (parsing it loads `ast`). Host side only: `probe_host` uses a cache only when
its caller names the directory (this interpreter's probe: collect.probe_this_host, livecache.py);
a probe served to a container or to another interpreter gets none and runs everything.
Standard library only, Python 3.8 (it lives in the probe package).

What keys each entry (a change in any one is a miss, and the command runs again):

- `ldconfig -p`: ldconfig's path and stat, and the stat of /etc/ld.so.cache;
- `TOOL --version` (nvcc, gcc, clang, cmake, ninja, uv): PATH and the locale variables,
  the path and stat of every file of that name on PATH (a wrapper such as ccache runs
  the next one) and of the one run; only an ELF executable is cached, or a script that
  is nothing but `exec /absolute/path "$@"` of one (its target's path and stat join the
  key): what any other script prints depends on what it runs (pyenv shims, conda's nvcc
  wrapper), so it runs every time;
- a distribution's RECORD (the shared objects it lists) or METADATA (its Requires-Dist
  lines), torch's version.py (what it assigns): that file's stat (pip rewrites them on
  every install: another inode);
- the ctypes child: the interpreter's path and stat, the libcudart candidates it tries
  (listed fresh from CUDA_HOME) and the stat of those with a path, LD_LIBRARY_PATH and
  LD_PRELOAD, the stat of each LD_LIBRARY_PATH directory, of /etc/ld.so.cache,
  /etc/ld.so.preload and the loader's default directories (a library added to one
  changes its mtime); checked when an entry is read: the stat of each library it
  loaded (a libcuda replaced in place by a driver update is a miss).

A stat is (path, size, mtime_ns, inode). What it cannot see: a file changed in place
with its size, mtime and inode kept (touch -r after an edit), a library dropped into a
directory not listed above and found through one, a compiler that reads its version
from somewhere other than its own file. A failure (a timeout, an exit status other than
0) is never stored. `--no-cache` bypasses it; deleting the cache directory
(ENVLOCK_CACHE_DIR) empties it.

Concurrent writers: the entries live in one JSON file, rewritten whole through a
temporary file and a rename (a reader sees the old file or the new one), read, merged
and written under a lock file (flock), so two probes ending together keep both their
entries. A file that cannot be read or parsed, or an entry of the wrong shape, is a miss.
"""

from __future__ import annotations

import _thread
import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence
    from typing import Any

FORMAT = 1
FILE_NAME = f"probe-files-v{FORMAT}.json"
MAX_BYTES = 1 << 20
LOCK_WAIT_S = 2.0
LOCALE_ENV = ("LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES")


def stat_line(path: str) -> str:
    """path:size:mtime_ns:inode, or path:missing."""
    try:
        st = os.stat(path)
    except OSError:
        return path + ":missing"
    return f"{path}:{st.st_size}:{st.st_mtime_ns}:{st.st_ino}"


def is_elf(path: str) -> bool:
    """A native executable (not a script whose output depends on what it runs)."""
    try:
        with open(os.path.realpath(path), "rb") as fh:
            return fh.read(4) == b"\x7fELF"
    except OSError:
        return False


def on_path(name: str) -> list[str]:
    """The stat of every file named `name` in PATH's directories, in PATH's order."""
    out = []
    for d in os.environ.get("PATH", "").split(os.pathsep):
        if d:
            cand = os.path.join(d, name)
            if os.path.isfile(cand):
                out.append(stat_line(cand))
    return out


# The one kind of script whose output is its target's: `#!/bin/sh` (or bash) and one
# `exec /absolute/path "$@"` (a toolkit's nvcc put on PATH so). Anything else a script
# may do (set variables, pick a version, run a shim) runs it every time.
_SHELLS = (b"/bin/sh", b"/bin/bash", b"/usr/bin/sh", b"/usr/bin/bash")
_UNSAFE_PATH = frozenset(b" \t\"'$`\\;&|<>()*?[]{}~#=")
# what a non-interactive shell reads before the script (BASH_ENV, SHELLOPTS...)
SHELL_ENV = ("BASH_ENV", "ENV", "SHELLOPTS", "BASHOPTS")


def exec_target(path: str) -> str | None:
    """The ELF executable that `path`, a script of only `exec /abs/path "$@"`, runs; None
    for any other file (or when the environment could make the shell do more)."""
    if any(os.environ.get(var) for var in SHELL_ENV):
        return None
    try:
        with open(os.path.realpath(path), "rb") as fh:
            text = fh.read(4097)
    except OSError:
        return None
    target = _only_exec(text) if len(text) <= 4096 else None
    return target if target is not None and is_elf(target) else None


def _only_exec(text: bytes) -> str | None:
    """The path a shell script's one `exec /abs/path "$@"` line names, if that is all it does."""
    lines = [line.strip() for line in text.splitlines()]
    if not lines or not lines[0].startswith(b"#!") or lines[0][2:].strip() not in _SHELLS:
        return None
    body = [line for line in lines[1:] if line and not line.startswith(b"#")]
    if len(body) != 1 or not body[0].startswith(b"exec /") or not body[0].endswith(b' "$@"'):
        return None
    target = body[0][len(b"exec ") : -len(b' "$@"')]
    return None if any(c in _UNSAFE_PATH for c in target) else os.fsdecode(target)


def tool_key(name: str, exe: str) -> list[str] | None:
    """The key of `exe --version` (found as `name` on PATH), or None when it is neither an
    ELF executable nor a script that only execs one (any other script: never cached)."""
    target = exe if is_elf(exe) else exec_target(exe)
    if target is None:
        return None
    key = ["PATH=" + os.environ.get("PATH", "")]
    key += [f"{var}={os.environ.get(var, '')}" for var in LOCALE_ENV]
    key += [exe, os.path.realpath(exe), stat_line(exe)]
    if target != exe:  # the script's own stat is above: an edited script is a miss
        key += [target, os.path.realpath(target), stat_line(target)]
    return key + on_path(name)


def is_str_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


class StatCache:
    """The entries of one cache file: name -> {"key", "value", "paths", "stats"}.
    Thread-safe (the probe's sections run in threads); `save()` writes back what changed."""

    def __init__(self, path: str | None, entries: dict[str, Any]) -> None:
        self.path = path
        self._entries = entries
        self._new: dict[str, Any] = {}
        self._lock = _thread.allocate_lock()  # not threading: a served probe imports none

    def get(self, name: str, key: Sequence[str]) -> Any:
        """The value stored under `name` for exactly `key`, or None: none stored, another
        key, or a file it checks changed."""
        with self._lock:
            entry = self._entries.get(name)
        if not isinstance(entry, dict) or entry.get("key") != list(key):
            return None
        paths, stats = entry.get("paths"), entry.get("stats")
        if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
            return None
        if stats != [stat_line(p) for p in paths]:
            return None  # a file it loaded was replaced (or is gone)
        return entry.get("value")

    def put(self, name: str, key: Sequence[str], value: Any, check: Iterable[str] = ()) -> None:
        """Store `value` (JSON, not None) for `key`; `check`: paths whose stat must still
        match when it is read."""
        paths = list(check)
        entry = {"key": list(key), "value": value, "paths": paths}
        entry["stats"] = [stat_line(p) for p in paths]
        with self._lock:
            self._entries[name] = entry
            self._new[name] = entry

    def save(self) -> None:
        """Merge this run's entries into the file (best effort: a cache that cannot be
        written is only a slower next run)."""
        with self._lock:
            new = dict(self._new)
            self._new.clear()
        if not new or self.path is None:
            return
        import contextlib  # here: a served probe (no cache) imports none

        with contextlib.suppress(OSError):
            _write_merged(self.path, new)


def cached(
    cache: StatCache | None,
    name: str,
    key: Sequence[str] | None,
    compute: Callable[[], tuple[Any, bool]],
    valid: Callable[[Any], bool],
    check: Callable[[Any], Iterable[str]] = lambda value: (),
) -> Any:
    """compute()'s value, from `cache` when `key` matches and the stored value is
    `valid` (a damaged entry is a miss); compute() returns (value, storable): a failure
    is never stored. `check(value)`: the files whose stat a later read compares. No
    `key` (nothing files decide): computed every time."""
    if key is None:
        cache = None
    if cache is not None and key is not None:
        value = cache.get(name, key)
        if value is not None and valid(value):
            return value
    value, storable = compute()
    if cache is not None and key is not None and storable and value is not None:
        cache.put(name, key, value, check(value))
    return value


def _read(path: str) -> dict[str, Any]:
    import json  # here: a served probe imports this module, never json

    from envlock.probe._regular import open_regular

    try:
        with open_regular(path) as fh:
            data = json.loads(fh.read(MAX_BYTES + 1).decode("utf-8"))
    except (OSError, ValueError, RecursionError):
        return {}
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return {}
    entries = data.get("entries")
    return dict(entries) if isinstance(entries, dict) else {}


def open_cache(directory: str) -> StatCache:
    """The cache file in `directory` (empty when missing or unreadable)."""
    path = os.path.join(directory, FILE_NAME)
    return StatCache(path, _read(path))


def _write_merged(path: str, new: dict[str, Any]) -> None:
    import contextlib
    import json
    import tempfile

    directory = os.path.dirname(path)
    os.makedirs(directory, exist_ok=True)
    with _flocked(path + ".lock"):
        entries = _read(path)
        entries.update(new)
        text = json.dumps({"format": FORMAT, "entries": entries})
        if len(text) > MAX_BYTES:  # never outgrow what a reader accepts: this run's only
            text = json.dumps({"format": FORMAT, "entries": new})
        fd, tmp = tempfile.mkstemp(prefix=".probe-files-", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.replace(tmp, path)  # atomic: readers see the old file or this one
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise


class _flocked:
    """Holds an exclusive flock on `path` (created) for a merge; after LOCK_WAIT_S, or
    where there are no locks, the merge goes on without it (the rename keeps it whole)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.fd: int | None = None

    def __enter__(self) -> None:
        import time

        try:
            import fcntl
        except ImportError:
            return
        try:
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            return
        deadline = time.monotonic() + LOCK_WAIT_S
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    return
                time.sleep(0.01)
            except OSError:
                return

    def __exit__(self, *exc: object) -> None:
        if self.fd is not None:
            os.close(self.fd)  # releases the lock
