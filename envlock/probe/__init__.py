"""The stdlib-only probe: this machine (or container) as a Facts document (a plain dict).

Runs on Python 3.8+ with the standard library alone (pynvml optional), so it
can be copied into any image with a python3. Every source runs in its own
thread under the overall time limit and never raises: a source that fails or
hangs yields `unavailable: "<reason>"`. The torch child process starts first,
and the other sources run while it imports torch.
"""

from __future__ import annotations

import _thread
import time

# typing is not imported at run time (~3 ms of every container probe).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

    from envlock.probe._util import Spawned
    from envlock.probe.shapes import ExtensionDoc
    from envlock.probe.statcache import StatCache
    from envlock.probe.torch_info import LiveProbe

FACTS_VERSION = 1
SECTIONS = (
    "system",
    "driver",
    "cuda",
    "torch",
    "packages",
    "env",
    "toolchain",
    "extensions",
    "network",
)


def _envlock_version() -> str:
    try:
        from envlock import __version__

        return str(__version__)
    except Exception:  # the probe copied alone into an image
        return "unknown"


class _Source:
    """One source in a thread of its own: a _thread, not threading's, whose start() waits
    for the new thread to run (and then for the GIL: up to the 5 ms switch interval, nine
    times), and which a served probe does not import (with functools and collections,
    ~3 ms of a fresh container). Never joined at exit, as a daemon thread."""

    def __init__(self, name: str, fn: Callable[[], Mapping[str, object]]) -> None:
        self.source = name
        self.fn = fn
        self.result: Mapping[str, object] | None = None
        self.error: str | None = None
        self.seconds: float | None = None
        self._running = _thread.allocate_lock()

    def start(self) -> None:
        self._running.acquire()
        _thread.start_new_thread(self._run, ())

    def ended(self, timeout: float) -> bool:
        """Whether the source ended, waiting `timeout` seconds at most."""
        if not self._running.acquire(True, timeout):
            return False
        self._running.release()
        return True

    def _run(self) -> None:
        t0 = time.perf_counter()
        try:
            self.result = self.fn()
        except Exception as exc:  # a source must never take the probe down
            self.error = f"{self.source} probe failed: {type(exc).__name__}: {exc}"
        finally:
            self.seconds = time.perf_counter() - t0
            self._running.release()


def probe_host(
    torch_live: bool = True,
    timeout: float = 30.0,
    target: str = "host",
    extension_cache: dict[str, ExtensionDoc] | None = None,
    sections: tuple[str, ...] | None = None,
    file_cache_dir: str | None = None,
) -> dict[str, Any]:
    """Probe this interpreter's machine and environment; return the Facts dict (never raises
    for an unavailable source). `extension_cache`: earlier extension scans by file key,
    read and filled (livecache.py keeps it between runs). `sections`: only these sources
    (default: all of SECTIONS); the others are left out of the dict. `file_cache_dir`:
    where what ldconfig, nvcc, the compilers and the ctypes child said is cached by their
    files' stat (probe/statcache.py): the host's caller names it, a served probe never."""
    started = time.perf_counter()
    files = _file_cache(file_cache_dir)
    deadline = started + max(float(timeout), 0.5)
    wanted = _START_ORDER if sections is None else _only(sections)
    live = _live_probe(torch_live, wanted)  # first: it is the long pole
    ldconfig = _ldconfig_now(files, wanted)

    def remaining() -> float:
        return max(deadline - time.perf_counter(), 0.1)

    sources = [
        _Source(
            name, _collector(name, remaining, torch_live, live, extension_cache, files, ldconfig)
        )
        for name in wanted
    ]
    for s in sources:
        s.start()
    facts: dict[str, Any] = {"facts_version": FACTS_VERSION}
    durations: dict[str, float] = {}
    notes: list[str] = []
    for s in sources:
        if not s.ended(remaining()):
            facts[s.source] = {
                "unavailable": f"{s.source} probe did not finish within the "
                f"{timeout:g} s time limit"
            }
            durations[s.source] = round((time.perf_counter() - started) * 1000, 1)
            notes.append(f"{s.source} timed out")
            continue
        durations[s.source] = round((s.seconds or 0.0) * 1000, 1)
        facts[s.source] = s.result if s.result is not None else {"unavailable": s.error}
    if live is not None:
        live.kill()  # only ever alive here when the torch source itself timed out
    if files is not None:
        files.save()
    if facts.get("torch", {}).get("live") is not None:
        seconds = facts["torch"]["live"].get("import_seconds")
        if seconds is not None:
            durations["torch_import"] = round(seconds * 1000, 1)
    durations["total"] = round((time.perf_counter() - started) * 1000, 1)
    facts["meta"] = _meta(target, facts.get("system"), durations, notes)
    return {k: facts[k] for k in ("facts_version", "meta", *SECTIONS) if k in facts}


def _meta(
    target: str, system: object, durations: dict[str, float], notes: list[str]
) -> dict[str, object]:
    return {
        "envlock_version": _envlock_version(),
        "collected_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "target": _local_target(system) if target == "host" else target,
        "partial": False,
        "durations_ms": durations,
        "notes": notes,
    }


def _file_cache(directory: str | None) -> StatCache | None:
    if directory is None:
        return None
    from envlock.probe.statcache import open_cache

    return open_cache(directory)


def _ldconfig_now(files: StatCache | None, wanted: tuple[str, ...]) -> Spawned | None:
    """`ldconfig -p` started before the sections load, where nothing is cached (a served
    probe): it runs on the other core meanwhile. With a cache its answer may be kept."""
    if files is not None or "cuda" not in wanted:
        return None
    from envlock.probe.cudalibs import start_ldconfig

    return start_ldconfig()


def _only(sections: tuple[str, ...]) -> tuple[str, ...]:
    """The `sections` asked for, in the threads' start order."""
    return tuple(name for name in _START_ORDER if name in sections)


def _live_probe(torch_live: bool, wanted: tuple[str, ...]) -> LiveProbe | None:
    """The torch child, started when torch's live facts are wanted and torch is there."""
    if not torch_live or "torch" not in wanted:
        return None  # torch_info not imported for it (`explain 137` probes only `system`)
    from envlock.probe import torch_info

    if torch_info.find_torch() is None:
        return None
    return torch_info.LiveProbe()


# the threads' start order: torch's waits on the child started first
_START_ORDER = (
    "system",
    "driver",
    "cuda",
    "packages",
    "env",
    "toolchain",
    "extensions",
    "network",
    "torch",
)
# section -> the module that collects it (imported only when its section is probed: a
# served probe compiles each module it imports from source)
_MODULES = {"driver": "nvml", "cuda": "cudalibs", "env": "envvars", "torch": "torch_info"}


def _collector(
    name: str,
    remaining: Callable[[], float],
    torch_live: bool,
    live: LiveProbe | None,
    extension_cache: dict[str, ExtensionDoc] | None,
    files: StatCache | None,
    ldconfig: Spawned | None = None,
) -> Callable[[], Mapping[str, object]]:
    """The call that collects section `name` within the time `remaining()` leaves."""
    import importlib

    module = importlib.import_module("envlock.probe." + _MODULES.get(name, name))
    collect: Callable[..., Mapping[str, object]] = module.collect
    if name == "driver":
        return lambda: collect(nvml_timeout=min(10.0, remaining() * 0.8))
    if name == "cuda":
        return lambda: collect(timeout=remaining(), cache=files, ldconfig_started=ldconfig)
    if name == "toolchain":
        return lambda: collect(timeout=remaining(), cache=files)
    if name == "extensions":
        return lambda: collect(cache=extension_cache, files=files)
    if name == "packages":
        return lambda: collect(cache=files)
    if name == "torch":
        return lambda: collect(torch_live=torch_live, timeout=remaining(), live=live, cache=files)
    return collect


def _local_target(system: object) -> str:
    """ "host", or "this docker container" where the probe finds itself in one: reports
    never call a container the host."""
    container = system.get("container") if isinstance(system, dict) else None
    if not isinstance(container, dict) or not container.get("detected"):
        return "host"
    runtime = container.get("runtime")
    return f"this {runtime} container" if runtime else "this container"


__all__ = ["FACTS_VERSION", "probe_host"]
