"""Installed distributions found by scanning sys.path for *.dist-info / *.egg-info.

Faster than importlib.metadata for our purpose: the name and version come from
the directory name, and files are read only for the few distributions that
need more. One scan per process, shared by packages.py and cudalibs.py.
"""

from __future__ import annotations

import _thread
import os
import sys

from envlock.probe._util import read_text

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from envlock.probe.statcache import StatCache


# A project name as a requirement line starts with one: [A-Za-z0-9][A-Za-z0-9._-]*
_NAME_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
_NAME_CHARS = _NAME_START | frozenset("._-")


def normalize(name: str) -> str:
    """PEP 503 normalized project name: re.sub(r"[-_.]+", "-", name).lower(), written
    without re, which a served probe in a fresh container pays ~3-5 ms to import."""
    dashed = name.replace("_", "-").replace(".", "-")
    while "--" in dashed:
        dashed = dashed.replace("--", "-")
    return dashed.lower()


def requirement_name(req: str) -> str | None:
    r"""The project name a Requires-Dist line starts with, None when none: the group of
    re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", req), without re (\s is what
    str.lstrip() strips)."""
    text = req.lstrip()
    if not text or text[0] not in _NAME_START:
        return None
    end = 1
    while end < len(text) and text[end] in _NAME_CHARS:
        end += 1
    return text[:end]


class Dist:
    def __init__(self, name: str, version: str, path: str) -> None:
        self.name = name  # normalized
        self.version = version
        self.path = path  # the .dist-info / .egg-info directory
        self._requires: list[str] | None = None
        # what its files say, cached by their stat (this host's probe: statcache.py)
        self.files: StatCache | None = None

    def _metadata_file(self) -> str:
        if os.path.isfile(self.path):
            return self.path
        if self.path.endswith(".egg-info"):
            return os.path.join(self.path, "PKG-INFO")
        return os.path.join(self.path, "METADATA")

    def headers(self) -> list[str]:
        """METADATA header lines (up to the first blank line)."""
        text = read_text(self._metadata_file(), 256 * 1024) or ""
        head = text.split("\n\n", 1)[0]
        return head.splitlines()

    def requires(self) -> list[str]:
        # read once: the family check and envlock's own requirements both walk them
        if self._requires is None:
            self._requires = self.by_stat("requires", self._metadata_file(), self._read_requires)
        return self._requires

    def _read_requires(self) -> list[str]:
        return [
            h.split(":", 1)[1].strip() for h in self.headers() if h.startswith("Requires-Dist:")
        ]

    def by_stat(self, what: str, path: str, compute: Callable[[], list[str]]) -> list[str]:
        """compute(), what `path` says; from `self.files` while its stat is unchanged (an
        unchanged venv is not read again on every probe of this host)."""
        from envlock.probe.statcache import cached, is_str_list, stat_line

        key = None if self.files is None else [stat_line(path)]
        value: list[str] = cached(
            self.files, f"{what}:{path}", key, lambda: (compute(), True), is_str_list
        )
        return value

    def record_head(self, size: int = 4096) -> str:
        return read_text(os.path.join(self.path, "RECORD"), size) or ""


_lock = _thread.allocate_lock()  # not threading: a served probe imports none
_cache: dict[str, dict[str, Dist]] = {}


def distributions(path: list[str] | None = None, files: StatCache | None = None) -> dict[str, Dist]:
    """normalized name -> Dist; the first on sys.path wins, as for imports. `files`: what
    their files say is cached there by the files' stat (this host's probe)."""
    entries = list(sys.path if path is None else path)
    key = os.pathsep.join(entries)
    with _lock:
        if key not in _cache:
            _cache[key] = _scan(entries)
        found = _cache[key]
        if files is not None:
            for dist in found.values():
                dist.files = files
        return found


def _scan(entries: list[str]) -> dict[str, Dist]:
    found: dict[str, Dist] = {}
    for entry in entries:
        if not entry or not os.path.isdir(entry):
            continue
        try:
            names = os.listdir(entry)
        except OSError:
            continue
        for fname in sorted(names):
            if fname.endswith(".dist-info"):
                dist = _from_dist_info(entry, fname)
            elif fname.endswith(".egg-info"):
                dist = _from_egg_info(entry, fname)
            else:
                continue
            if dist is not None and dist.name not in found:
                found[dist.name] = dist
    return found


def _from_dist_info(entry: str, fname: str) -> Dist | None:
    stem = fname[: -len(".dist-info")]
    name, sep, version = stem.partition("-")
    path = os.path.join(entry, fname)
    if sep and version:
        return Dist(normalize(name), version, path)
    return _from_headers(os.path.join(path, "METADATA"), path)


def _from_egg_info(entry: str, fname: str) -> Dist | None:
    path = os.path.join(entry, fname)
    if os.path.isdir(path):
        return _from_headers(os.path.join(path, "PKG-INFO"), path)
    return _from_headers(path, path)  # a single PKG-INFO file named *.egg-info


def _from_headers(metadata_file: str, dist_path: str) -> Dist | None:
    text = read_text(metadata_file, 64 * 1024) or ""
    name = version = None
    for line in text.split("\n\n", 1)[0].splitlines():
        if line.startswith("Name:"):
            name = line.split(":", 1)[1].strip()
        elif line.startswith("Version:"):
            version = line.split(":", 1)[1].strip()
    if not name or not version:
        return None
    return Dist(normalize(name), version, dist_path)
