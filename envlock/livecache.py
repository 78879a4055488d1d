"""Cache of torch's live facts, so an unchanged environment is checked without importing torch.

Importing torch (seconds on a small machine) is the only slow part of a probe. Its
live facts (cuDNN, NCCL, arch flags, devices, loaded libraries) change only when a
file, the driver or the GPUs' state changes, so every command that probes this
interpreter (doctor, report, explain, verify, run, preflight, restore's verify of the
venv it built) takes them from here when the key matches. The rest of the probe
(NVML's GPUs, MIG, ECC and compute mode, the CUDA libraries, packages...) is read
fresh on every run, and the key is made of it, so a change it sees is a miss:

- the interpreter: its path, version and the stat of its binary;
- torch: location, version, CUDA, git version, and size, mtime and inode of its own
  binaries (torch/_C*.so, torch/lib/*, version.py) and of every shared library under
  site-packages/nvidia/ (cuDNN, NCCL, cuBLAS wheels); every installed distribution's
  name==version and the nvidia-*/cuda-* wheels;
- the driver (version, kernel module, CUDA version) and each GPU as NVML sees it now
  (UUID, name, memory, MIG, ECC and compute mode), and the /dev/nvidia* nodes;
- what decides which libraries load: the variables in _KEY_ENV (LD_LIBRARY_PATH,
  LD_PRELOAD, CUDA_VISIBLE_DEVICES, PYTHONPATH, ...), the stat of each
  LD_LIBRARY_PATH directory (a library added to one changes its mtime) and of
  /etc/ld.so.cache (ldconfig);
- checked when an entry is read: the stat of every library the torch child had
  loaded (a cuDNN replaced in /usr/lib is a miss even though no key part moved).

What it cannot see: a file changed in place with its size, mtime and inode kept
(touch -r after an edit), or a change outside these files that alters what torch
reports. `--no-cache` (every command that probes) bypasses it; deleting the cache
directory (ENVLOCK_CACHE_DIR, default ~/.cache/envlock) empties it. The doctor's and
verify's reports are cached beside it (reportcache.py), keyed by the document this
probe gives on each run.

Concurrent ranks: entries are written to a temporary file and renamed (a reader sees
the old entry or the new one, never part of one), and on a miss one process probes
while the others wait on a lock file for its entry (flock; at most the probe's time
limit) instead of all importing torch at once. A failure is never cached; an entry
that cannot be read or parsed is a miss.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Iterator

from envlock.reportcache import new_sha256

# typing (and tempfile, below) are not imported at run time: ~10 ms of a warm verify
TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path  # ~3 ms (urllib.parse, ipaddress): loaded where a Path is made
    from typing import Any, cast

    from envlock.facts import Facts
    from envlock.probe.shapes import FactsDoc
else:

    def cast(_type: object, value: object) -> object:
        return value  # typing.cast's whole body


CACHE_FORMAT = 2
_KEY_ENV = (
    "LD_LIBRARY_PATH",
    "LD_PRELOAD",
    "CUDA_VISIBLE_DEVICES",
    "NVIDIA_VISIBLE_DEVICES",
    "CUDA_DEVICE_ORDER",
    "PYTORCH_NVML_BASED_CUDA_CHECK",
    "TORCH_ALLOW_TF32_CUBLAS_OVERRIDE",
    "NVIDIA_TF32_OVERRIDE",
    "PYTHONPATH",
    "PYTHONHOME",
)
HIT = "torch live facts from cache"
MISS = "torch live facts probed (cache miss)"
SHARED = "torch live facts from cache (probed by another process just now)"
INVALID = "torch live facts probed (cache entry was invalid, replaced)"


def cache_dir() -> Path:
    from pathlib import Path

    if os.environ.get("ENVLOCK_CACHE_DIR"):
        return Path(os.environ["ENVLOCK_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "envlock"


def _stat_line(path: str) -> str:
    try:
        st = os.stat(path)
    except OSError:
        return f"{path}:missing"
    return f"{path}:{st.st_size}:{st.st_mtime_ns}:{st.st_ino}"


def _binaries(torch_dir: str) -> list[str]:
    """torch's _C*.so, version.py and lib/*, and nvidia/*/lib/*.so* and nvidia/*/*/lib/*.so*
    (cu13 wheels nest one deeper): what these Path.glob patterns matched, listed with
    os.scandir (pathlib's globbing cost more than the stats: ~1 ms of a warm verify)."""
    torch_dir = torch_dir or "."  # Path("") is the working directory
    out = [e.path for e in _entries(torch_dir) if _matches(e.name, "_C", ".so", exact=True)]
    out.append(os.path.join(torch_dir, "version.py"))
    out += [e.path for e in _entries(os.path.join(torch_dir, "lib"))]
    for wheel in _subdirs(os.path.join(os.path.dirname(os.path.abspath(torch_dir)), "nvidia")):
        for lib in (wheel, *_subdirs(wheel)):
            entries = _entries(os.path.join(lib, "lib"))
            out += [e.path for e in entries if _matches(e.name, "", ".so", exact=False)]
    return sorted(out)


def _entries(directory: str) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(directory) as it:
            return list(it)
    except OSError:
        return []


def _matches(name: str, prefix: str, so: str, *, exact: bool) -> bool:
    """Path.glob's match of `prefix*.so` (exact) or `prefix*.so*` (its `*` matches a
    leading dot too)."""
    if not name.startswith(prefix):
        return False
    rest = name[len(prefix) :]
    return rest.endswith(so) if exact else so in rest


def _subdirs(directory: str) -> list[str]:
    """What Path.glob's `*/` matches in `directory`: its directories, through a link too."""
    found = []
    for entry in _entries(directory):
        try:
            if entry.is_dir():
                found.append(entry.path)
        except OSError:
            continue
    return found


def _interpreter_parts(doc: FactsDoc) -> Iterator[object]:
    py = doc.get("system", {}).get("python")
    executable = py.get("executable") if py else None
    yield from (executable, py.get("version") if py else None)
    if executable:
        yield _stat_line(os.path.realpath(executable))


def _torch_parts(doc: FactsDoc) -> Iterator[object]:
    t = doc.get("torch", {})
    yield from (t.get("location"), t.get("version"), t.get("cuda"), t.get("git_version"))
    yield from (_stat_line(path) for path in _binaries(t.get("location") or ""))
    for name, version in sorted(doc.get("packages", {}).get("distributions", {}).items()):
        yield from (name, version)
    for w in doc.get("cuda", {}).get("wheels", []):
        yield from (w.get("name"), w.get("version"))


def _driver_parts(doc: FactsDoc) -> Iterator[object]:
    """The driver and the GPUs as NVML sees them on this run: what torch would see."""
    d = doc.get("driver", {})
    yield from (d.get("version"), d.get("kernel_module_version"), d.get("cuda_version"))
    yield d.get("unavailable") is None
    for g in d.get("gpus") or []:
        yield from (g.get("index"), g.get("uuid"), g.get("name"), g.get("memory_total_bytes"))
        yield from (g.get("mig_mode"), g.get("ecc_mode"), g.get("compute_mode"))
    yield from d.get("device_nodes", [])


def _loader_parts() -> Iterator[object]:
    """What decides which libraries load, beside the files of torch and its wheels."""
    for name in _KEY_ENV:
        yield from (name, os.environ.get(name))
    for directory in (os.environ.get("LD_LIBRARY_PATH") or "").split(os.pathsep):
        if directory:
            yield _stat_line(directory)
    from envlock.probe.cudalibs import LD_SO_CACHE  # the probe's, read by ldconfig -p

    yield _stat_line(LD_SO_CACHE)


def cache_key(doc: FactsDoc) -> str | None:
    """The key for a facts document probed without the live torch child (the probe's own
    dict: no Facts model is built for a hit), or None if not cacheable."""
    torch = doc.get("torch", {})
    if not torch.get("installed") or not torch.get("location"):
        return None
    h = new_sha256()
    parts = (
        CACHE_FORMAT,
        *_interpreter_parts(doc),
        *_torch_parts(doc),
        *_driver_parts(doc),
        *_loader_parts(),
    )
    for part in parts:
        h.update(str(part).encode())
        h.update(b"\0")
    return h.hexdigest()


def _entry(key: str) -> Path:
    return cache_dir() / f"torch-live-{key[:32]}.json"


def _loaded(live: dict[str, Any]) -> list[str]:
    """The paths of the libraries the torch child had loaded (from its own facts)."""
    libs = live.get("loaded_libraries")
    listed = libs if isinstance(libs, list) else []
    return sorted(
        {
            lib["path"]
            for lib in listed
            if isinstance(lib, dict) and isinstance(lib.get("path"), str)
        }
    )


def load(key: str) -> dict[str, Any] | None:
    """The live facts stored under `key`, or None: no entry, an unreadable one, or one
    whose loaded libraries changed since it was written."""
    from envlock.safeio import UnreadableFile, read_bounded

    try:  # a cache entry that cannot be read or parsed is a miss: the probe refills it
        data = json.loads(read_bounded(_entry(key), limit=1 << 20).decode("utf-8"))
    except (UnreadableFile, ValueError, RecursionError):
        return None
    if (
        not isinstance(data, dict)
        or data.get("key") != key
        or not isinstance(data.get("live"), dict)
        or not isinstance(data.get("libs"), list)
    ):
        return None
    live: dict[str, Any] = data["live"]
    if data["libs"] != [_stat_line(path) for path in _loaded(live)]:
        return None  # a library torch loaded was replaced (or is gone)
    return live


def drop(key: str) -> None:
    with contextlib.suppress(OSError):
        _entry(key).unlink()


def store(key: str, live: dict[str, Any]) -> None:
    """Best effort: a cache that cannot be written is only a slower next run."""
    if live.get("unavailable"):
        return  # never cache a failure (a timeout may pass next time)
    directory = cache_dir()
    entry = {"key": key, "live": live, "libs": [_stat_line(p) for p in _loaded(live)]}
    try:
        directory.mkdir(parents=True, exist_ok=True)
        import tempfile

        fd, tmp = tempfile.mkstemp(prefix=".torch-live-", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(entry, fh)
            os.replace(tmp, _entry(key))  # atomic: readers see the old entry or this one
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except OSError:
        pass


@contextlib.contextmanager
def _only_one(key: str, timeout: float) -> Iterator[None]:
    """Hold the entry's lock file while probing, so that ranks starting together probe
    once; after `timeout` s a waiter goes on without it (the holder may hang)."""
    try:
        import fcntl
    except ImportError:  # not POSIX: every process probes for itself
        yield
        return
    fd = None
    with contextlib.suppress(OSError):
        cache_dir().mkdir(parents=True, exist_ok=True)
        fd = os.open(cache_dir() / f".torch-live-{key[:32]}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    deadline = time.monotonic() + timeout
    while fd is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:  # another process holds it: wait for its entry
            if time.monotonic() > deadline:
                os.close(fd)
                fd = None
            else:
                time.sleep(0.05)
        except OSError:  # no locks here (some network filesystems): probe alone
            os.close(fd)
            fd = None
    try:
        yield
    finally:
        if fd is not None:
            os.close(fd)  # releases the lock


def live_facts(
    key: str, probe: Callable[[], dict[str, Any]], timeout: float
) -> tuple[dict[str, Any], str]:
    """torch's live facts for `key` and the note that says where they came from: the
    cache, or `probe()` (once for all the processes that miss together)."""
    live = load(key)
    if live is not None:
        return live, HIT
    with _only_one(key, timeout):
        live = load(key)  # another process may have filled it while this one waited
        if live is not None:
            return live, SHARED
        live = probe()
        store(key, live)
    return live, MISS


def _host_static(timeout: float, sections: tuple[str, ...] | None) -> dict[str, Any]:
    """This interpreter's probe without torch's child."""
    from envlock.probe import probe_host

    ext_cache = load_extension_cache()
    data = probe_host(
        torch_live=False,
        timeout=timeout,
        extension_cache=ext_cache,
        sections=sections,
        file_cache_dir=str(cache_dir()),  # what files decide in its children, too
    )
    store_extension_cache(ext_cache)
    return data


def probe_with_cache(
    *,
    timeout: float,
    sections: tuple[str, ...] | None = None,
    python: str | None = None,
    static: Callable[[], Facts] | None = None,
) -> tuple[Facts, bool]:
    """Probe this interpreter (only `sections`, when given), or another one: `python`,
    whose facts without torch's child `static()` gives (collect.probe_interpreter);
    torch's live facts from the cache when the key matches. Returns the facts and
    whether the cache was hit."""
    probed = probe_document(timeout=timeout, sections=sections, python=python, static=static)
    facts = probed.facts()
    return facts, probed.hit


def probe_document(
    *,
    timeout: float,
    sections: tuple[str, ...] | None = None,
    python: str | None = None,
    static: Callable[[], Facts] | None = None,
) -> Probed:
    """probe_with_cache's facts as the probe's document, no Facts model built yet: a hit
    of the report cache (reportcache.py) compares documents and never needs one."""
    if (python is None) != (static is None):
        raise ValueError("probe_with_cache: give python and static together")
    ahead = _AHEAD.pop((timeout, sections), None) if python is None else None
    if ahead is not None:
        return ahead
    # the probe's plain JSON document, as probe_host returns it (to_dict writes the same)
    data: dict[str, Any] = _host_static(timeout, sections) if static is None else static().to_dict()
    key = cache_key(cast("FactsDoc", data))
    probed = Probed(data, key, python, timeout)
    if key is not None:
        live, probed.note = live_facts(key, probed.live_probe, timeout)
        data["torch"]["live"] = live
        data["meta"].setdefault("notes", []).append(probed.note)
    return probed


# A probe this process has already taken (probe_ahead), for its next probe_document
# with the same arguments: warm verify's key needs the probe before the CLI loads.
_AHEAD: dict[tuple[float, tuple[str, ...] | None], Probed] = {}


def probe_ahead(*, timeout: float, sections: tuple[str, ...] | None) -> Probed:
    """probe_document() of this interpreter now; this process's next probe_document with
    the same arguments returns it (once) instead of probing again."""
    probed = probe_document(timeout=timeout, sections=sections)
    _AHEAD[(timeout, sections)] = probed
    return probed


class Probed:
    """A probe's document with torch's live facts, and where they came from."""

    __slots__ = ("_python", "_timeout", "document", "key", "note", "reused")

    def __init__(
        self, document: dict[str, Any], key: str | None, python: str | None, timeout: float
    ) -> None:
        self.document = document
        self.key = key
        self.note: str | None = None  # HIT, SHARED, MISS or INVALID; None: not cacheable
        # the report on this document came from, or went into, the report cache
        self.reused = False
        self._python = python
        self._timeout = timeout

    @property
    def hit(self) -> bool:
        return self.note in (HIT, SHARED)

    def live_probe(self) -> dict[str, Any]:
        from envlock.probe.torch_info import LiveProbe

        return LiveProbe(self._python).result(self._timeout)

    def facts(self) -> Facts:
        """The document as Facts. A cache entry that parses as JSON but not as live facts
        (written by another envlock, or damaged) is dropped and probed again instead of
        failing every command."""
        from envlock.errors import FactsError  # imported here: a warm verify needs neither
        from envlock.facts import Facts

        try:
            return Facts.from_dict(self.document)
        except FactsError:
            if self.key is None or self.note == MISS:
                raise
        drop(self.key)
        self.document["torch"]["live"] = live = self.live_probe()
        store(self.key, live)
        self.document["meta"]["notes"][-1] = self.note = INVALID
        return Facts.from_dict(self.document)


# ----------------------------------------------------------------- extensions
# The extension scan (probe/extensions.py) per file, keyed by the file's path, size and
# mtime and by torch's own libraries (the missing-symbol check reads them): an unchanged
# venv is not re-read or re-hashed. One file per user; entries not used by the last scan
# are dropped when it is written back.
EXTENSIONS_FORMAT = 1
_EXTENSIONS_LIMIT = 32 << 20


class ExtensionCache(dict[str, "Any"]):
    """The entries read from disk; remembers which keys this run looked up or filled."""

    def __init__(self, entries: dict[str, Any]) -> None:
        super().__init__(entries)
        self.used: set[str] = set()
        self.changed = False

    def get(self, key: str, default: Any = None) -> Any:
        self.used.add(key)
        return super().get(key, default)

    def __setitem__(self, key: str, value: Any) -> None:
        self.used.add(key)
        self.changed = True
        super().__setitem__(key, value)


def _extensions_entry() -> Path:
    return cache_dir() / f"extensions-v{EXTENSIONS_FORMAT}.json"


def load_extension_cache() -> ExtensionCache:
    """The cached scans; empty when missing, unreadable or of another format."""
    from envlock.safeio import UnreadableFile, read_bounded

    try:
        data = json.loads(
            read_bounded(_extensions_entry(), limit=_EXTENSIONS_LIMIT).decode("utf-8")
        )
    except (UnreadableFile, ValueError, RecursionError):
        return ExtensionCache({})
    entries = data.get("entries") if isinstance(data, dict) else None
    if not isinstance(entries, dict) or data.get("format") != EXTENSIONS_FORMAT:
        return ExtensionCache({})
    return ExtensionCache({k: v for k, v in entries.items() if isinstance(v, dict)})


def store_extension_cache(cache: ExtensionCache) -> None:
    """Write back the entries this run used, when anything changed (best effort)."""
    if not cache.changed and set(cache) <= cache.used:
        return
    entries = {k: cache[k] for k in sorted(cache.used) if k in cache}
    directory = cache_dir()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        import tempfile

        fd, tmp = tempfile.mkstemp(prefix=".extensions-", dir=directory)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"format": EXTENSIONS_FORMAT, "entries": entries}, fh)
        os.replace(tmp, _extensions_entry())
    except OSError:
        pass
