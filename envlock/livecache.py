"""Cache of torch's live facts, so an unchanged environment verifies without importing torch.

Importing torch (about 2 s on a small machine) is the only slow part of a
probe. Its live facts (cuDNN, NCCL, arch flags, devices, loaded libraries)
change only when the installation or the driver changes, so they are cached
under a key made of:

- the interpreter and torch's location and version;
- size, mtime and inode of torch's own binaries (torch/_C*.so, torch/lib/*)
  and of every shared library under site-packages/nvidia/ (cuDNN, NCCL,
  cuBLAS wheels), plus the name==version of every nvidia-*/cuda-* wheel;
- the driver version, kernel module version and the GPUs (NVML UUIDs);
- the variables that change what loads or what torch sees
  (LD_LIBRARY_PATH, LD_PRELOAD, CUDA_VISIBLE_DEVICES, ...).

Reinstalling torch or any nvidia-* wheel, upgrading the driver or swapping a
GPU changes the key. Entries are written atomically; a corrupt entry is a miss.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from envlock.errors import FactsError
from envlock.facts import Facts

CACHE_FORMAT = 1
_KEY_ENV = (
    "LD_LIBRARY_PATH",
    "LD_PRELOAD",
    "CUDA_VISIBLE_DEVICES",
    "NVIDIA_VISIBLE_DEVICES",
    "CUDA_DEVICE_ORDER",
    "PYTORCH_NVML_BASED_CUDA_CHECK",
    "TORCH_ALLOW_TF32_CUBLAS_OVERRIDE",
    "NVIDIA_TF32_OVERRIDE",
)


def cache_dir() -> Path:
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
    out: list[str] = []
    torch_path = Path(torch_dir)
    out += [str(p) for p in torch_path.glob("_C*.so")]
    out.append(str(torch_path / "version.py"))
    lib = torch_path / "lib"
    if lib.is_dir():
        out += [str(p) for p in lib.iterdir()]
    nvidia = torch_path.parent / "nvidia"
    if nvidia.is_dir():
        out += [str(p) for p in nvidia.glob("*/lib/*.so*")]
        out += [str(p) for p in nvidia.glob("*/*/lib/*.so*")]  # cu13 wheels nest one deeper
    return sorted(out)


def cache_key(facts: Facts) -> str | None:
    """The key for `facts` (probed without the live torch child), or None if not cacheable."""
    t = facts.torch
    if not t.installed or not t.location:
        return None
    h = hashlib.sha256()

    def add(*parts: object) -> None:
        for p in parts:
            h.update(str(p).encode())
            h.update(b"\0")

    py = facts.system.python
    add(CACHE_FORMAT, py.executable if py else None, py.version if py else None)
    add(t.location, t.version, t.cuda, t.git_version)
    for path in _binaries(t.location):
        add(_stat_line(path))
    for name, version in sorted(facts.packages.distributions.items()):
        add(name, version)
    for w in facts.cuda.wheels:
        add(w.name, w.version)
    d = facts.driver
    add(d.version, d.kernel_module_version, d.cuda_version, d.unavailable is None)
    for g in d.gpus or []:
        add(g.index, g.uuid, g.name)
    add(*d.device_nodes)
    for name in _KEY_ENV:
        add(name, os.environ.get(name))
    return h.hexdigest()


def _entry(key: str) -> Path:
    return cache_dir() / f"torch-live-{key[:32]}.json"


def load(key: str) -> dict[str, Any] | None:
    from envlock.safeio import UnreadableFile, read_bounded

    try:  # a cache entry that cannot be read or parsed is a miss: the probe refills it
        data = json.loads(read_bounded(_entry(key), limit=1 << 20).decode("utf-8"))
    except (UnreadableFile, ValueError, RecursionError):
        return None
    if (
        not isinstance(data, dict)
        or data.get("key") != key
        or not isinstance(data.get("live"), dict)
    ):
        return None
    live: dict[str, Any] = data["live"]
    return live


def drop(key: str) -> None:
    with contextlib.suppress(OSError):
        _entry(key).unlink()


def store(key: str, live: dict[str, Any]) -> None:
    """Best effort: a cache that cannot be written is only a slower next run."""
    if live.get("unavailable"):
        return  # never cache a failure (a timeout may pass next time)
    directory = cache_dir()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".torch-live-", dir=directory)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"key": key, "live": live}, fh)
        os.replace(tmp, _entry(key))
    except OSError:
        pass


def probe_with_cache(*, timeout: float) -> tuple[Facts, bool]:
    """Probe this interpreter; torch's live facts from the cache when the key matches.

    Returns the facts and whether the cache was hit.
    """
    from envlock.probe import probe_host
    from envlock.probe.torch_info import LiveProbe

    ext_cache = load_extension_cache()
    data = probe_host(torch_live=False, timeout=timeout, extension_cache=ext_cache)
    store_extension_cache(ext_cache)
    static = Facts.from_dict(data)
    key = cache_key(static)
    if key is None:
        return static, False
    live = load(key)
    hit = live is not None
    if live is None:
        live = LiveProbe().result(timeout)
        store(key, live)
    data["torch"]["live"] = live
    data["meta"].setdefault("notes", []).append(
        "torch live facts from cache" if hit else "torch live facts probed (cache miss)"
    )
    try:
        return Facts.from_dict(data), hit
    except FactsError:
        if not hit:
            raise
    # A cache entry that parses as JSON but not as live facts (written by another
    # envlock, or damaged): drop it and probe again instead of failing every verify.
    drop(key)
    data["torch"]["live"] = live = LiveProbe().result(timeout)
    store(key, live)
    data["meta"]["notes"][-1] = "torch live facts probed (cache entry was invalid, replaced)"
    return Facts.from_dict(data), False


# ----------------------------------------------------------------- extensions
# The extension scan (probe/extensions.py) per file, keyed by the file's path, size and
# mtime and by torch's own libraries (the missing-symbol check reads them): an unchanged
# venv is not re-read or re-hashed. One file per user; entries not used by the last scan
# are dropped when it is written back.
EXTENSIONS_FORMAT = 1
_EXTENSIONS_LIMIT = 32 << 20


class ExtensionCache(dict[str, Any]):
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
        fd, tmp = tempfile.mkstemp(prefix=".extensions-", dir=directory)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"format": EXTENSIONS_FORMAT, "entries": entries}, fh)
        os.replace(tmp, _extensions_entry())
    except OSError:
        pass
