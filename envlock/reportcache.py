"""Reports of the pure comparisons, cached: a warm doctor or verify of an unchanged machine
loads neither the Facts model nor the checks, the lock model or the comparison.

The doctor's checks and verify's comparison are pure functions of what they are given
(ARCHITECTURE: everything under the Facts line). An entry holds the Report they gave,
keyed by all of it:

- the facts document as probed on this run, torch's live facts included (the probe
  runs every time: NVML's GPUs, MIG, ECC and compute mode are read fresh, and any
  change in any section is another key); only when it was collected and how long each
  section took are left out;
- the command's inputs: its options, and for verify the lock's exact bytes and path;
- the code and data that compute the report: envlock's version, the interpreter's,
  and for the envlock package (the matrix data included) and the `packaging` modules
  the version comparisons use: where the package was installed from a wheel (a
  distribution's RECORD beside it names its __init__.py), that RECORD's bytes (the
  sha256 of every file it installed) and its size, mtime and inode, which every
  install, upgrade or reinstall writes anew; elsewhere (a source checkout, an editable
  install) the size, mtime and inode of every file in it. An upgraded, reinstalled or
  edited envlock is a miss.

What it cannot see: a file of a checkout edited in place with its size, mtime and
inode kept, and a file of an installed package edited in place under site-packages
(its RECORD unchanged: reinstall it). `--no-cache` bypasses it, with the live-facts
cache it sits beside. A plain warm `envlock verify` or `envlock doctor` goes one step
further, with the same key parts: the output the full CLI wrote (usecases/warmverify.py).

Only reports of a comparison that read nothing else are stored (not verify's fresh
determinism digests, not a container's or another interpreter's facts). Entries live in
`reports/` under the live-facts cache's directory, written atomically and best effort, at
most `MAX_ENTRIES`; an entry is a pickle read by an unpickler that builds only the
Report's own dataclasses and enums: a damaged or foreign entry is a miss, never code run.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator, Mapping

TYPE_CHECKING = False  # typing costs ~4 ms of a warm verify
if TYPE_CHECKING:
    from pathlib import Path  # ~3 ms (urllib.parse, ipaddress): key() needs none of it
    from typing import Protocol

    from envlock.findings import Report

    class Hasher(Protocol):
        def update(self, data: bytes, /) -> None: ...
        def hexdigest(self) -> str: ...


FORMAT = 1
MAX_ENTRIES = 64
MAX_ENTRY_BYTES = 16 << 20
# what differs between two probes of an unchanged machine, and no check reads
_VOLATILE_META = ("collected_at", "durations_ms")
# the modules whose classes a Report holds (the unpickler's allow-list)
_REPORT_MODULES = frozenset({"envlock.findings", "envlock.details", "envlock.severity"})


def document_bytes(document: Mapping[str, object]) -> bytes:
    """A facts document as key material: canonical JSON, without the volatile meta."""
    meta = document.get("meta")
    if isinstance(meta, Mapping):
        kept = {k: v for k, v in meta.items() if k not in _VOLATILE_META}
        document = {**document, "meta": kept}
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), default=repr)
    return text.encode("utf-8", "surrogatepass")


def new_sha256() -> Hasher:
    """A sha256 (the cache keys'), from CPython's own module where it has one: hashlib
    loads OpenSSL first, ~4 ms of every warm verify. The same digests either way."""
    for name in ("_sha256", "_sha2"):  # CPython 3.8-3.11, 3.12 on
        try:
            hasher: Hasher = __import__(name).sha256()  # no importlib: ~0.4 ms (warnings)
        except (ImportError, AttributeError):
            continue
        return hasher
    import hashlib

    return hashlib.sha256()


def key(command: str, *parts: bytes) -> str:
    """The entry for `command`'s report over these inputs, with the code that computes it."""
    h = new_sha256()
    h.update(_code_stamp())
    for part in (command.encode(), *parts):
        h.update(len(part).to_bytes(8, "big"))  # no two inputs run into each other
        h.update(part)
    return h.hexdigest()


def _code_stamp() -> bytes:
    import envlock

    parts = [f"{FORMAT}:{envlock.__version__}:{sys.version}"]
    for directory in _code_dirs():
        record = _record_line(directory)
        parts += [record] if record is not None else _stat_lines(directory)
    return "\n".join(parts).encode("utf-8", "surrogatepass")


def _code_dirs() -> list[str]:
    """envlock's package (code and the matrix data), and packaging's (version rules)."""
    import envlock

    dirs = [os.path.dirname(envlock.__file__ or "")]
    packaging = _package_dir("packaging")
    return dirs if packaging is None else [*dirs, packaging]


def _record_line(directory: str) -> str | None:
    """The stamp of a package installed from a wheel: its distribution's RECORD (beside
    it, `NAME-VERSION.dist-info/RECORD`, the one naming NAME/__init__.py), its bytes'
    digest and its stat; None where there is no such one RECORD (a checkout, an
    editable install, a package directory that is a link: every file is stamped).
    ~0.1 ms where the walk takes ~1.5 ms of a replayed restore (issue 23)."""
    site, name = os.path.split(directory)
    wanted = _distribution(name)
    try:
        if os.path.islink(directory):
            return None
        found = [n for n in os.listdir(site) if n.endswith(".dist-info") and
                 _normalized(n.partition("-")[0]) == wanted]  # fmt: skip
    except OSError:
        return None
    if len(found) != 1:
        return None
    from envlock.safeio import UnreadableFile, read_bounded

    record = os.path.join(site, found[0], "RECORD")
    try:
        data = read_bounded(record, MAX_ENTRY_BYTES)
        st = os.stat(record)
    except (UnreadableFile, OSError):
        return None
    if not (data.startswith(name.encode() + b"/__init__.py,") or
            b"\n" + name.encode() + b"/__init__.py," in data):  # fmt: skip
        return None
    h = new_sha256()
    h.update(data)
    return f"{record}:{st.st_size}:{st.st_mtime_ns}:{st.st_ino}:{h.hexdigest()}"


def _distribution(package: str) -> str:
    """The normalized name of the distribution that installs `package` (envlock's is
    torch-envlock; packaging's is its own)."""
    from envlock import DISTRIBUTION

    return _normalized(DISTRIBUTION if package == "envlock" else package)


def _normalized(name: str) -> str:
    """A distribution's name as wheels spell it in .dist-info (PEP 427/503: runs of -_.
    one underscore, lower case), without re."""
    out: list[str] = []
    for char in name.lower():
        if char in "-_.":
            if out and out[-1] != "_":
                out.append("_")
            continue
        out.append(char)
    return "".join(out)


def _package_dir(name: str) -> str | None:
    """The directory of the top-level package `name` as importlib.util.find_spec finds
    it, without importlib.util (~0.5 ms of a replayed restore): the loaded module's
    spec, else the first of sys.meta_path's finders that knows it."""
    module = sys.modules.get(name)
    spec = getattr(module, "__spec__", None) if module is not None else _find_spec(name)
    locations = getattr(spec, "submodule_search_locations", None)
    return next(iter(locations), None) if locations else None


def _find_spec(name: str) -> object:
    """What importlib.util.find_spec(name) finds of a top-level `name` not yet loaded."""
    for finder in sys.meta_path:
        find = getattr(finder, "find_spec", None)
        if find is None:
            continue
        try:
            spec = find(name, None)
        except (ImportError, ValueError):
            return None
        if spec is not None:
            return spec
    return None


def _stat_lines(directory: str) -> Iterator[str]:
    """size, mtime and inode of every file under `directory` but bytecode, in order."""
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError:
        yield f"{directory}:missing"
        return
    for entry in entries:
        if entry.name == "__pycache__":
            continue
        try:
            if entry.is_dir(follow_symlinks=False):
                yield from _stat_lines(entry.path)
                continue
            st = entry.stat()
        except OSError:
            yield f"{entry.path}:missing"
            continue
        yield f"{entry.path}:{st.st_size}:{st.st_mtime_ns}:{st.st_ino}"


def _entry(cache_dir: Path, key: str) -> Path:
    return cache_dir / "reports" / f"report-{key[:40]}.pickle"


def load(cache_dir: Path, key: str) -> Report | None:
    """The Report stored under `key`, or None (a miss, whatever went wrong)."""
    from envlock import picklecache
    from envlock.findings import Report

    return picklecache.load(
        _entry(cache_dir, key),
        Report,
        modules=_REPORT_MODULES,
        what="a Report",
        limit=MAX_ENTRY_BYTES,
    )


def store(cache_dir: Path, key: str, report: Report) -> None:
    """Best effort: a cache that cannot be written is only a slower next run; the newest
    MAX_ENTRIES entries are kept (every changed machine state is a new one)."""
    from envlock import picklecache

    picklecache.store(_entry(cache_dir, key), report, keep=MAX_ENTRIES)
