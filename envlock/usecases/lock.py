"""Locking an environment: the Lock of a machine's facts (with determinism digests and
file hashes when asked) and the lock file, whose header says how to make it again.

`envlock lock` and `api.write_lock` both come here, so the same facts and options give
the same file.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from envlock.collect import Source
from envlock.usecases._shared import not_checked, target_of

if TYPE_CHECKING:
    from envlock.facts import DeterminismFacts, Facts
    from envlock.findings import Finding
    from envlock.lock.model import Lock
    from envlock.report.progress import Progress


@dataclass(frozen=True, kw_only=True, slots=True)
class LockOptions:
    """How a lock is made; the header's "Regenerate" line repeats them."""

    scope: str = "full"
    determinism: bool = False  # run the suite and lock its digests
    seed: int = 0
    device: str = "auto"
    allow_partial: bool = False  # lock partial facts without torch
    hashes: bool = False  # sha256 of the files that fit the platform, from the index
    hashes_from: str | None = None  # a resolver's pylock to take them from first
    # told each phase of the long work (the index's answers counted): not an option of
    # the lock, so not compared and not in the header
    progress: Progress | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, kw_only=True, slots=True)
class LockFile:
    """A lock and its file."""

    lock: Lock
    text: str  # the file: the generated header, then the TOML tables
    path: str | None  # where it was written (None: not written, e.g. for stdout)
    unrestorable: tuple[Finding, ...]  # installs restore cannot repeat (editable, local)


def make_lock(source: Source | None, *, facts: Facts | None, options: LockOptions) -> Lock:
    """The lock of `facts` (default: collected from `source`), with determinism digests
    and file hashes when `options` ask. Digests that differ between two runs in one
    process are refused, and so are partial facts without torch's (an image without a
    usable python3) unless `allow_partial`: such a lock would pin almost nothing and
    verify would pass."""
    from envlock.lock.build import build_lock

    if options.hashes_from and not options.hashes:
        from envlock.errors import UsageError

        raise UsageError("--hashes-from needs --hashes")
    source = source or Source()
    if facts is None:
        from envlock.collect import collect_facts

        facts = collect_facts(source)
    _refuse_partial(source, facts, allow=options.allow_partial)
    if options.determinism:
        facts = facts.replace(determinism=_deterministic_digests(source, options))
    lock = build_lock(facts, scope=options.scope)
    if options.hashes:
        lock = add_hashes(
            lock, python=source.python, pylock=options.hashes_from, progress=options.progress
        )
    return lock


def lock_file(
    path: str | None, source: Source | None, *, facts: Facts | None, options: LockOptions
) -> LockFile:
    """make_lock()'s lock as a file, written atomically to `path` (an interrupted write
    keeps the old lock); `path` None writes nothing (the text goes to stdout)."""
    from envlock.lock.closure import unrestorable_findings
    from envlock.lock.io import dumps_lock, write_lock

    source = source or Source()
    lock = make_lock(source, facts=facts, options=options)
    regenerate = _regenerate_args(path, source, options)
    if path is None:
        text = dumps_lock(lock, args=regenerate)
    else:
        # what was locked is what the copied line verifies: an image, a container or
        # another interpreter (without --python it would verify envlock's own)
        target = "".join(
            f" --{o} {shlex.quote(value)}"
            for o, value in (("image", source.image), ("container", source.container))
            if value
        )
        if source.python:
            target += " --python " + shell_path(source.python)
        text = dumps_lock(lock, name=path, args=regenerate, verify_args=target)
        write_lock(path, text)
    return LockFile(
        lock=lock,
        text=text,
        path=path,
        unrestorable=tuple(unrestorable_findings(lock.sources, lock.packages)),
    )


def add_hashes(
    lock: Lock,
    *,
    index: str | None = None,
    python: str | None = None,
    pylock: str | None = None,
    progress: Progress | None = None,
) -> Lock:
    """The lock with [files]: sha256 of the files that fit its platform, from a resolver's
    `pylock` file where it has the locked version, else from the JSON simple API (PEP 691)
    of `index` (default: the one pip is configured with)."""
    from envlock.install.index import with_hashes
    from envlock.install.pylock import files_from_pylock
    from envlock.report.progress import SILENT

    known = files_from_pylock(pylock, lock) if pylock else None
    return with_hashes(lock, index=index, python=python, known=known, progress=progress or SILENT)


def _refuse_partial(source: Source, facts: Facts, *, allow: bool) -> None:
    if allow or not facts.meta.partial or (facts.torch.installed and facts.torch.version):
        return
    from envlock.errors import FactsError

    missing = not_checked(facts)
    raise FactsError(
        f"not locking partial facts of {target_of(source, facts)}: torch was not "
        f"observed ({missing[0] if missing else 'partial probe'}); "
        "--allow-partial writes the lock anyway"
    )


def _deterministic_digests(source: Source, options: LockOptions) -> DeterminismFacts:
    """The suite's digests, refused when two runs in one process differ."""
    from envlock.determinism.compare import run_to_run_findings
    from envlock.determinism.runner import run_suite
    from envlock.errors import DeterminismError
    from envlock.findings import Severity
    from envlock.report.progress import SILENT

    det = run_suite(
        device=options.device,
        seed=options.seed,
        python=source.python,
        progress=options.progress or SILENT,
    )
    bad = [f for f in run_to_run_findings(det) if f.severity is Severity.ERROR]
    if bad:
        raise DeterminismError(
            f"not locking nondeterministic digests: {bad[0].message}"
            + (f" (and {len(bad) - 1} more)" if len(bad) > 1 else "")
        )
    return det


def _regenerate_args(path: str | None, source: Source, options: LockOptions) -> str:
    """The `envlock lock` options that make this lock again, for the header."""
    from envlock.lock.model import DEFAULT_LOCK_NAME

    parts: list[str] = []
    output = "-" if path is None else path
    if output != DEFAULT_LOCK_NAME:
        parts += ["-o", output]
    if options.scope != "full":
        parts += ["--scope", options.scope]
    if options.determinism:
        parts.append("--determinism")
        if options.seed:
            parts += ["--seed", str(options.seed)]
        if options.device != "auto":
            parts += ["--device", options.device]
    if options.hashes:
        parts.append("--hashes")
    if options.hashes_from:
        parts += ["--hashes-from", options.hashes_from]
    if options.allow_partial:
        parts.append("--allow-partial")
    for opt, value in (("image", source.image), ("container", source.container)):
        if value:
            parts += [f"--{opt}", value]
    args = "".join(" " + shlex.quote(p) for p in parts)
    if source.python:
        args += " --python " + shell_path(source.python)
    return args


def shell_path(path: str) -> str:
    """An interpreter path for a header line a user copies into a shell: shareable (no
    home directory by name), quoted for the shell with a leading ~/ left outside the
    quotes, where the shell still expands it."""
    shareable = _shareable_path(path)
    if shareable.startswith("~/"):
        return "~/" + shlex.quote(shareable[2:])
    return shlex.quote(shareable)


def _shareable_path(path: str) -> str:
    """An interpreter path for a committed file: relative to the working directory when
    inside it, else with the home directory as ~ (a user name is identity, not data)."""
    absolute = os.path.abspath(path)
    here = os.getcwd()
    if absolute == here or absolute.startswith(here.rstrip(os.sep) + os.sep):
        return os.path.relpath(absolute, here)
    home = os.path.expanduser("~")
    if home not in ("", "/", "~") and absolute.startswith(home.rstrip(os.sep) + os.sep):
        return "~" + absolute[len(home.rstrip(os.sep)) :]
    return path
