"""restore's guess of the install it is about to plan: what an earlier `restore --venv`
of the same lock bytes, options and envlock code planned (the requirements text, and
whether the installer may skip dependencies), so that the install starts the moment the
new venv is built while this run reads the lock, holds its torch build and plans for
itself (issue 23: the lock's models take longer to load than `uv venv` takes to run).

A guess, never trusted: install/restore.py goes on with the started install only when
this run's own plan gives the same text and command; else it stops it and builds the
venv again from scratch. Guesses are kept only for plans that read nothing of the
machine (no CUDA build held against a driver, no --host-facts), so the same inputs plan
the same, and a run that ends blocked or in bad input stops the guessed install before
anything of it reaches DIR. The key: the lock's bytes and path as given (the text's
header names it), the options that change the plan, and envlock's own files by stat
(reportcache.key). `--no-cache` neither reads nor writes them.

The same key starts that of restore's verify Report in the report cache (report_key):
with the new venv's facts document read from its files, any change in the venv is
another key, and a repeat restore does not compare again.
"""

from __future__ import annotations

from envlock.frozen import Frozen

TYPE_CHECKING = False  # no typing, pathlib or dataclasses before a repeat restore's uv
if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

MAX_ENTRIES = 32
MAX_ENTRY_BYTES = 16 << 20
_MODULES = frozenset({"envlock.install.plancache"})


class Guess(Frozen):
    """What an earlier plan of the same inputs installed (envlock/frozen.py: no
    dataclass, it is read before a repeat restore starts uv)."""

    __slots__ = ("complete", "live", "pins", "requirements", "rules", "sections")
    requirements: str  # the requirements file's text
    complete: bool  # the plan pins the whole closure (the installer skips dependencies)
    # what install/ahead.py needs of the lock and its plan to verify without them: the
    # packages pinned (the install's count), the facts sections restore's verify reads,
    # whether torch's live facts are among them, verify's --rule for the plan's variant
    pins: int
    sections: tuple[str, ...]
    live: bool
    rules: tuple[str, ...]

    def __init__(
        self,
        *,
        requirements: str,
        complete: bool,
        pins: int = 0,
        sections: tuple[str, ...] = (),
        live: bool = True,
        rules: tuple[str, ...] = (),
    ) -> None:
        self._set(requirements=requirements, complete=complete, pins=pins,
                  sections=sections, live=live, rules=rules)  # fmt: skip


def key(raw: bytes, lock: str, settings: tuple[str | None, ...]) -> str:
    """The entry for a lock's bytes as read at `lock` and the plan's options."""
    from envlock import reportcache

    return reportcache.key("restore-plan", raw, lock.encode("utf-8", "surrogateescape"),
                           repr(settings).encode())  # fmt: skip


def _entry(cache_dir: Path, key: str) -> Path:
    return cache_dir / "restore" / f"plan-{key[:40]}.pickle"


def load(cache_dir: Path, key: str) -> Guess | None:
    """The guess stored under `key`, or None (a miss, whatever went wrong)."""
    from envlock import picklecache

    return picklecache.load(
        _entry(cache_dir, key), Guess, modules=_MODULES, what="a plan", limit=MAX_ENTRY_BYTES
    )


def store(cache_dir: Path, key: str, guess: Guess) -> None:
    """Best effort: a cache that cannot be written is only a slower next restore."""
    from envlock import picklecache

    picklecache.store(_entry(cache_dir, key), guess, keep=MAX_ENTRIES)


def report_key(
    plan_key: str,
    doc: Mapping[str, object],
    host: Mapping[str, object] | None,
    settings: object,
) -> str:
    """The report cache's entry (reportcache.py) for restore's verify of a new venv whose
    facts document is `doc`: `plan_key` (key(): the lock's bytes and path, the options,
    envlock's code), the host facts that replace the machine's sections, and verify's
    rules, --ignore and --strict (`settings`)."""
    from envlock import reportcache

    h = reportcache.new_sha256()
    host_bytes = reportcache.document_bytes(host) if host is not None else b""
    for part in (plan_key.encode(), reportcache.document_bytes(doc), host_bytes,
                 repr(settings).encode()):  # fmt: skip
        h.update(len(part).to_bytes(8, "big"))  # no two parts run into each other
        h.update(part)
    return "restore-verify-" + h.hexdigest()
