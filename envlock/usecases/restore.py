"""envlock restore: from a lock back to a working environment, held against this machine
first (usecases/hold.py), verified after, and a new venv kept only once it verified."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from envlock.collect import Source

if TYPE_CHECKING:
    from pathlib import Path

    from envlock.facts import Facts
    from envlock.findings import Report
    from envlock.install.early import Started
    from envlock.install.plancache import Guess
    from envlock.install.restore import Installation
    from envlock.install.swap import Swap
    from envlock.lock.export import InstallPlan
    from envlock.lock.model import Lock
    from envlock.matrix.model import Matrix
    from envlock.probe.shapes import FactsDoc
    from envlock.report.progress import Progress
    from envlock.usecases.hold import Hold


@dataclass(frozen=True, kw_only=True, slots=True)
class RestoreOptions:
    venv: str | None = None  # build a new venv here and swap it in
    python: str | None = None  # or install into this interpreter
    base_python: str | None = None  # the venv's interpreter (default: envlock's)
    variant: str | None = None  # another torch variant of the locked release
    installer: str = "auto"
    torch_index: str | None = None  # a mirror of the variant's index, or "none"
    dry_run: bool = False
    host: Facts | None = None  # facts of the machine to hold the variant against
    strict: bool = False
    ignore: Iterable[str] = ()
    force: bool = False  # build beside foreign files in the venv directory
    cache: bool = False  # the new venv's torch live facts may come from the live-facts cache


@dataclass(frozen=True, kw_only=True, slots=True)
class RestoreOutcome:
    """What restore did: the variant verdict, the plan, the commands and verify's Report
    (None for a dry run or when the locked build cannot run here)."""

    hold: Hold
    requirements: str  # the requirements file the commands read
    plan: InstallPlan | None = None
    commands: tuple[str, ...] = ()
    report: Report | None = None
    blocked: bool = False  # the locked build cannot run here: nothing was installed
    dry_run: bool = False
    installer: str | None = None


def restore_lock(
    lock: str | os.PathLike[str],
    options: RestoreOptions,
    log: Callable[[str], None] = lambda line: None,
    progress: Progress | None = None,
) -> RestoreOutcome:
    """Hold the locked torch variant against the machine, then install exactly the lock
    (or print the commands) and verify what was installed; each phase told to `progress`.
    Into a venv, its building starts first: the lock is read and planned meanwhile, and
    what was started is undone when the lock cannot be restored."""
    from envlock.install.restore import choose_installer
    from envlock.report.progress import SILENT

    progress = progress or SILENT
    chosen = choose_installer(options.installer)
    started, guess = _ahead(lock, options, chosen)
    venv = options.venv if options.python is None and not options.dry_run else None
    if started is None and venv is not None:
        from envlock.install.restore import start_venv

        started = start_venv(
            venv,
            force=options.force,
            base_python=options.base_python,
            installer=chosen,
            log=log,
        )
    try:
        guess = guess or _Guessed(lock, options, chosen)
        earlier = guess.load() if started is not None and started.launch is None else None
        if started is not None and earlier is not None:
            from envlock.install.restore import start_guessed

            started = start_guessed(started, earlier, installer=chosen)
        return _restore(lock, options, chosen, log, progress, started, guess)
    except BaseException:
        if started is not None:
            started.abandon()  # a no-op once the swap was committed or rolled back
        raise


def _restore(
    lock: str | os.PathLike[str],
    options: RestoreOptions,
    chosen: str,
    log: Callable[[str], None],
    progress: Progress,
    started: Started | None,
    guess: _Guessed,
) -> RestoreOutcome:
    from envlock.install.restore import REQUIREMENTS, dry_run_lines
    from envlock.lock.export import plan_install
    from envlock.lock.io import read_lock

    locked = read_lock(lock, cache_dir=_cache_dir() if options.cache else None)
    if not locked.packages:
        from envlock.errors import RestoreError

        raise RestoreError(f"{os.fspath(lock)}: the lock holds no [packages]: nothing to restore")
    held, host = _hold(locked, options)
    if held.runs is False:
        if started is not None:
            started.abandon()
        return RestoreOutcome(hold=held, blocked=True, requirements=REQUIREMENTS)
    plan = plan_install(
        locked,
        variant=options.variant,
        default_variant=held.default_variant,
        torch_index=options.torch_index,
    )
    inst = _installation(locked, plan, chosen, options, started)
    if options.dry_run:
        return RestoreOutcome(
            hold=held,
            plan=plan,
            commands=tuple(dry_run_lines(inst)),
            dry_run=True,
            requirements=REQUIREMENTS,
        )
    from envlock import __version__
    from envlock.install.restore import install

    header = f"envlock {__version__} restore of {os.fspath(lock)}"
    if started is not None and _planned_here(locked, options):
        guess.store(locked, plan, header)
    # a repeat restore (a guess was there) likely takes verify's Report from the cache
    repeat = started is not None and started.launch is not None
    preload = _preload_venv_facts if repeat else _preload
    swap = install(
        inst, plan, header=header, log=log, progress=progress, started=started, meanwhile=preload
    )
    if not (started is not None and started.installed and swap is started.swap):
        progress.step(f"verifying {inst.python} against the lock (--scope software)")
    report = _verify_restored(locked, inst.python, plan, swap, options, host, guess)
    return RestoreOutcome(
        hold=held,
        plan=plan,
        commands=tuple(dry_run_lines(inst)),
        report=report.with_details(lock=os.fspath(lock)),
        installer=chosen,
        requirements=REQUIREMENTS,
    )


def _ahead(
    lock: str | os.PathLike[str], options: RestoreOptions, chosen: str
) -> tuple[Started | None, _Guessed | None]:
    """What `python -m envlock` started before the CLI loaded for this very restore
    (install/ahead.py: a plain argv's options, the same key), and the guess's key; else
    (None, None), anything started for other inputs stopped and its DIR put back."""
    from envlock.install import ahead

    if not ahead.pending():
        return None, None
    o = options
    others = (o.python, o.base_python, o.variant, o.torch_index, o.host)
    if o.venv is None or not o.cache or o.dry_run or o.force or any(x is not None for x in others):
        ahead.release()
        return None, None
    guess = _Guessed(lock, options, chosen)
    started = ahead.take(lock, o.venv, chosen, guess.key)
    ahead.release()
    return started, guess if started is not None else None


class _Guessed:
    """The plan an earlier restore of the same lock bytes and options made
    (install/plancache.py): loaded before the lock is read, stored once this run planned
    (only with the cache allowed). Its key (those bytes, the lock's path, the options,
    envlock's code) is also the start of verify's cached Report's (_verified)."""

    def __init__(self, lock: str | os.PathLike[str], options: RestoreOptions, chosen: str) -> None:
        self.key: str | None = None
        self.lock, self.raw = lock, b""
        self.stat: os.stat_result | None = None  # before the read: install/quick.py's entry
        if not options.cache or options.venv is None or options.dry_run:
            return
        from envlock.install.plancache import key
        from envlock.safeio import UnreadableFile, read_bounded

        base = options.base_python or sys.executable
        settings = (options.variant, options.torch_index, chosen, base)
        try:
            st = os.stat(lock)
            raw = read_bounded(lock)
        except (UnreadableFile, OSError, ValueError):
            return  # reading the lock says why
        self.key, self.raw = key(raw, os.fspath(lock), settings), raw
        if settings == (None, None, "uv", sys.executable):  # what a plain argv starts
            self.stat = st

    def unchanged(self) -> bool:
        """The lock still holds the bytes the key was made of (what was verified)."""
        from envlock.safeio import UnreadableFile, read_bounded

        try:
            return read_bounded(self.lock) == self.raw
        except UnreadableFile:
            return False

    def load(self) -> Guess | None:
        if self.key is None:
            return None
        from envlock.install.plancache import load
        from envlock.livecache import cache_dir

        return load(cache_dir(), self.key)

    def store(self, locked: Lock, plan: InstallPlan, header: str) -> None:
        if self.key is None:
            return
        from envlock.install.plancache import Guess, store
        from envlock.livecache import cache_dir
        from envlock.lock.export import requirements_text

        sections, live = _sections(locked)
        guess = Guess(
            requirements=requirements_text(plan, header=header),
            complete=plan.complete,
            pins=len(plan.pins),
            sections=sections,
            live=live,
            rules=_rules(plan),
        )
        store(cache_dir(), self.key, guess)
        if self.stat is not None:  # found by the lock's stat, before anything is imported
            from envlock.install import quickplan

            quickplan.store(str(cache_dir()), os.fspath(self.lock), self.stat, self.key, guess)


def _cache_dir() -> str:
    """The live-facts cache's directory, where verify keeps parsed locks too (an unchanged
    lock is not parsed and validated again: lock/parsedcache.py)."""
    from envlock.livecache import cache_dir

    return str(cache_dir())


def _planned_here(locked: Lock, options: RestoreOptions) -> bool:
    """The plan read nothing of a machine (_hold probed none and was given none), so the
    same inputs plan the same: a guess for the next restore."""
    return options.host is None and not _held_against_this_host(locked, options)


def _held_against_this_host(locked: Lock, options: RestoreOptions) -> bool:
    """Only a CUDA build needs a driver and GPUs: held against this machine's facts
    when no others were given."""
    wanted = options.variant or (locked.torch.variant if locked.torch else None)
    return options.host is None and bool(wanted and wanted.startswith("cu"))


def _preload() -> None:
    """What verifying the new venv imports, loaded while the installer runs (it mostly
    waits on files and the network; this process would wait on it)."""
    import envlock.usecases.verify
    import envlock.verify  # noqa: F401

    _preload_venv_facts()


def _preload_venv_facts() -> None:
    """What reading the new venv's facts imports (all a cached verify needs)."""
    from envlock.install.venvfacts import preload

    preload()


def _hold(locked: Lock, options: RestoreOptions) -> tuple[Hold, Facts | None]:
    """The locked (or requested) variant held against the given facts, or this machine's
    when it is a CUDA build (only a CUDA build needs a driver and GPUs); with this
    machine's facts when they were probed here (verify reuses them)."""
    from envlock.usecases.hold import hold_variant

    probed = None
    if _held_against_this_host(locked, options):
        from envlock.collect import probe_this_host

        probed = probe_this_host(torch_live=False)
    held = hold_variant(locked, options.host or probed, _matrix, requested=options.variant)
    return held, probed


def _matrix() -> Matrix:
    """The compatibility matrix, loaded only for a lock that holds torch."""
    from envlock.matrix import load_matrix

    return load_matrix()


def _installation(
    locked: Lock,
    plan: InstallPlan,
    installer: str,
    options: RestoreOptions,
    started: Started | None = None,
) -> Installation:
    from envlock.install.restore import REQUIREMENTS, plan_steps

    return plan_steps(
        plan,
        requirements=REQUIREMENTS,
        venv=options.venv,
        python=options.python,
        base_python=options.base_python,
        installer=installer,
        locked_python=locked.system.python if locked.system else None,
        force=options.force,
        begun=started.swap.target if started is not None else None,
    )


def _verify_restored(
    locked: Lock,
    python: str,
    plan: InstallPlan,
    swap: Swap | None,
    options: RestoreOptions,
    host: Facts | None,
    guess: _Guessed,
) -> Report:
    """verify's Report on what restore installed. A new venv (`swap`) stays only when it
    verified, bar what the plan knew it could not restore: else the old one goes back."""
    try:
        report = _verified(locked, python, plan, options, host, guess, venv=swap is not None)
    except BaseException:
        if swap is not None:
            swap.roll_back("verify did not finish")
        raise
    if swap is not None and _restore_failed(report, plan):
        swap.roll_back("the new venv did not verify")
        report = report.with_details(venv="not replaced: the new venv did not verify")
    elif swap is not None:
        swap.commit()
        report = report.with_details(venv="replaced")
    return report


def _verified(
    locked: Lock,
    python: str,
    plan: InstallPlan,
    options: RestoreOptions,
    host: Facts | None,
    guess: _Guessed,
    *,
    venv: bool,
) -> Report:
    """verify's Report on `python`: from the report cache when the new venv's facts
    document, read from its files, is the one an earlier restore verified with the same
    lock bytes, options, host facts and envlock code (the comparison is pure); else
    verified, and stored for the next."""
    sections, live = _sections(locked)
    ignore, rules = tuple(options.ignore), _rules(plan)
    doc = None
    if venv and not live:
        from envlock.usecases.restorefacts import venv_document

        doc = venv_document(python, sections, cache=options.cache)
    entry = _report_key(guess, doc, host, (rules, ignore, options.strict))
    if entry is not None:
        from envlock import reportcache

        cached = reportcache.load(entry[0], entry[1])
        if cached is not None:
            return cached
    from envlock.usecases.restorefacts import restored_facts
    from envlock.usecases.verify import VerifyOptions, verify

    facts = restored_facts(python, host, (sections, live), cache=options.cache, venv=venv, doc=doc)
    verify_options = VerifyOptions(
        scope="software", rules=rules, ignore=ignore, determinism=False, strict=options.strict
    )
    report = verify(locked, Source(python=python), facts=facts, options=verify_options).report
    if entry is not None and guess.unchanged():
        from envlock import reportcache

        reportcache.store(entry[0], entry[1], report)
    return report


def _rules(plan: InstallPlan) -> tuple[str, ...]:
    """verify's --rule for each lock field the restored variant changes on purpose."""
    return tuple(f"{f}=warn" for f in plan.differs)


def _report_key(
    guess: _Guessed, doc: FactsDoc | None, host: Facts | None, settings: object
) -> tuple[Path, str] | None:
    """Where verify's Report on this venv document is cached (None: not cached, when the
    document is not read from files or torch's live facts are part of the facts)."""
    if guess.key is None or doc is None:
        return None
    from envlock.install.plancache import report_key
    from envlock.livecache import cache_dir

    return cache_dir(), report_key(guess.key, doc, host.to_dict() if host else None, settings)


# What a new venv changes: its interpreter, packages, torch and extensions, and the
# environment its processes see (envlock's own). The machine's side (driver, GPUs,
# compilers, network) is not the venv's: verify --scope software reads none of it, so it
# is not probed again under the new interpreter (NVML, `gcc --version`...), and comes
# from the host probe of the hold when there was one.
VENV_SECTIONS = ("system", "env", "packages", "torch", "extensions")


def _sections(locked: Lock) -> tuple[tuple[str, ...], bool]:
    """The facts sections verify reads of a new venv, and whether torch's live facts
    (a child importing torch) are among them: only when the lock holds what they observe."""
    sections = VENV_SECTIONS + (("cuda",) if locked.cuda and locked.cuda.toolkit else ())
    live = locked.torch is not None and any(
        v is not None for v in (locked.torch.cudnn, locked.torch.nccl, locked.torch.arch_flags)
    )
    return sections, live


def _restore_failed(report: Report, plan: InstallPlan) -> bool:
    """Failing findings other than those on the packages restore skipped on purpose
    (editable and local installs: verify reports them missing, and the venv is still
    the one to keep)."""
    from envlock.findings import Severity

    skipped = {key.partition("==")[0] for key in plan.skipped}
    worst = Severity.WARNING if report.strict else Severity.ERROR

    def expected(field: str | None) -> bool:  # names may hold dots (zope.interface)
        return field is not None and any(
            field in (f"packages.{n}", f"sources.{n}") or field.startswith(f"sources.{n}.")
            for n in skipped
        )

    return any(f.severity >= worst and not expected(f.field) for f in report.findings)
