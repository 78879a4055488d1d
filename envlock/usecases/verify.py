"""Verifying an environment against a lock: what drifted, as a Report (verify, run,
preflight, and the local half of verify --distributed)."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

from envlock.collect import Source
from envlock.usecases._shared import target_of
from envlock.usecases.warmverify import LOCKED_SECTIONS

if TYPE_CHECKING:
    from envlock.facts import Facts
    from envlock.findings import Finding, Report, VerifyDetails
    from envlock.livecache import Probed
    from envlock.lock.model import Lock
    from envlock.verify import Rule

T = TypeVar("T")


@dataclass(frozen=True, kw_only=True, slots=True)
class Verified:
    """verify's Report and the facts it compared (the fleet summarizes them)."""

    report: Report
    facts: Facts
    # the determinism suite ran for it: a report that read more than the lock and facts
    suite_ran: bool = False


# The probe's sections a lock's fields come from (warmverify.py's: the warm path probes
# them before this module loads). The fleet (network) and the doctor's errors (preflight)
# need them all.


@dataclass(frozen=True, kw_only=True, slots=True)
class VerifyOptions:
    scope: str = "full"
    rules: Sequence[str | Rule] = ()  # field rule overrides ("packages.numpy=warn")
    ignore: Iterable[str] = ()
    determinism: bool = True  # recompute the digests the lock holds
    cache: bool = False  # torch's live facts may come from the cache
    strict: bool = False
    doctor_errors: bool = False  # the doctor's errors count too (preflight)
    command: str = "verify"
    # what a probe of this host collects (None: every section; the doctor's errors need
    # them all whatever this says)
    sections: tuple[str, ...] | None = LOCKED_SECTIONS


def verify(
    lock: str | os.PathLike[str] | Lock,
    source: Source | None,
    *,
    facts: Facts | None,
    options: VerifyOptions,
) -> Verified:
    """Compare this environment (or `source`, or `facts`) with a lock."""
    source = source or Source()
    # This host's probe starts first and runs while the lock is read and the comparison
    # loads: it mostly waits (subprocesses, files), the imports mostly compute.
    observing = (
        _Observing(lambda: _observe(source, options)) if facts is None and _local(source) else None
    )
    from envlock.catalog import DETERMINISM, DOCTOR, VERIFY, validate_ignore
    from envlock.findings import Report
    from envlock.verify import Rule, parse_rule_override
    from envlock.verify import verify as compare

    extra = (DOCTOR,) if options.doctor_errors else ()
    skip = validate_ignore(options.ignore, VERIFY, DETERMINISM, *extra)
    overrides = [r if isinstance(r, Rule) else parse_rule_override(r) for r in options.rules]
    locked = lock if not isinstance(lock, (str, os.PathLike)) else _read(lock, options)
    if facts is None:
        facts = observing.result() if observing is not None else _observe(source, options)
    skipped = None
    suite_ran = options.determinism and locked.determinism is not None
    if options.determinism:
        from envlock.collect import with_fresh_determinism

        facts, skipped = with_fresh_determinism(locked, facts, python=source.python)
    findings = compare(
        locked, facts, scope=options.scope, rules=overrides, determinism_skipped=skipped
    )
    if options.doctor_errors:
        findings += _doctor_errors(facts)
    findings = [f for f in findings if f.check_id not in skip]
    report = Report(
        command=options.command,
        target=target_of(source, facts),
        findings=findings,
        strict=options.strict,
        details=_details(lock, locked, facts, findings, skip, options.scope),
    )
    report = report.with_details(restore=_restore_offer(lock, source, facts))
    return Verified(report=report, facts=facts, suite_ran=suite_ran)


def verify_report(
    lock: str | os.PathLike[str] | Lock,
    source: Source | None,
    *,
    facts: Facts | None,
    options: VerifyOptions,
) -> Report:
    """verify()'s Report; for this interpreter with the caches allowed, the one an earlier
    run gave for the same lock bytes, facts document and options when there is one
    (reportcache.py: the comparison is pure), without loading the models or comparing."""
    source = (source or Source()).checked()
    if (
        facts is not None
        or not isinstance(lock, (str, os.PathLike))
        or not _cacheable(source, options)
    ):
        return verify(lock, source, facts=facts, options=options).report
    from envlock import reportcache
    from envlock.livecache import INVALID, cache_dir, probe_document

    # a generator given as ignore or rules is read once, here
    options = dataclasses.replace(options, ignore=tuple(options.ignore), rules=tuple(options.rules))
    probing = _Observing(lambda: probe_document(timeout=source.timeout, sections=options.sections))
    raw = _lock_bytes(lock)
    probed = probing.result()
    directory = cache_dir()
    # the key of the document as probed (building and comparing the facts may share and
    # change its values)
    key = None if raw is None else _key(raw, lock, probed, options)
    report = None if key is None else reportcache.load(directory, key)
    if report is not None:
        probed.reused = True
        return report
    verified = verify(lock, source, facts=probed.facts(), options=options)
    if key is not None and not verified.suite_ran and probed.note != INVALID:
        reportcache.store(directory, key, verified.report)
        probed.reused = True
    return verified.report


def _cacheable(source: Source, options: VerifyOptions) -> bool:
    """The comparison reads only the lock and this interpreter's cached facts."""
    return (
        options.cache
        and options.sections is not None
        and not options.doctor_errors
        and source.torch_live
        and _local(source)
    )


def _lock_bytes(lock: str | os.PathLike[str]) -> bytes | None:
    """The lock's bytes as verify would read them; None when it cannot (verify says why)."""
    from envlock.safeio import UnreadableFile, read_bounded

    try:
        return read_bounded(lock)
    except UnreadableFile:
        return None


def _key(raw: bytes, lock: str | os.PathLike[str], probed: Probed, options: VerifyOptions) -> str:
    from envlock import reportcache

    settings = [
        options.scope,
        [repr(r) for r in options.rules],
        sorted(options.ignore),
        options.determinism,
        options.strict,
        options.command,
        options.sections,
    ]
    return reportcache.key(
        "verify",
        raw,
        os.fsencode(lock),
        reportcache.document_bytes(probed.document),
        repr(settings).encode(),
    )


def _read(path: str | os.PathLike[str], options: VerifyOptions) -> Lock:
    """The lock at `path`; with the cache allowed, an unchanged lock is not parsed again."""
    from envlock.lock.io import read_lock

    if not options.cache:
        return read_lock(path)
    from envlock.livecache import cache_dir

    return read_lock(path, cache_dir=cache_dir())


def _restore_offer(lock: str | os.PathLike[str] | Lock, source: Source, facts: Facts) -> str | None:
    """`envlock restore LOCK --python PY` for a lock file and the interpreter verified (this
    one, --python; not a container, a paste or a facts file); where conda holds torch,
    after conda's torch family's removal (restore installs torch with pip: beside conda's
    pytorch, two installs)."""
    if not isinstance(lock, (str, os.PathLike)):
        return None
    py = facts.system.python.executable if facts.system.python else None
    if not py or source.in_container or source.pasted or source.facts_file:
        return None
    import shlex

    windows = facts.system.os is not None and facts.system.os.id == "windows"
    quote = _windows_quoted if windows else shlex.quote
    command = f"envlock restore {quote(os.fspath(lock))} --python {quote(py)}"
    if "pytorch" not in facts.toolchain.conda_packages:
        return command
    from envlock.checks.hints import after_conda_removal, conda_held

    command = after_conda_removal(conda_held(facts.toolchain.conda_packages), command)
    if windows:  # PowerShell 5.1 rejects `&&`, cmd reads `;` as no separator
        from envlock.checks.shells import one_command_a_line

        command = one_command_a_line(command)
    return command


def _windows_quoted(arg: str) -> str:
    """`arg` for cmd and PowerShell alike: bare when it is one plain word, else in double
    quotes (shlex's POSIX single quotes are no quotes in cmd)."""
    plain = bool(arg) and all(c.isalnum() or c in "\\/:._-+=@" for c in arg)
    return arg if plain else f'"{arg}"'


def _local(source: Source) -> bool:
    """The facts come from probing this host (no container, interpreter, file or paste)."""
    return not (source.in_container or source.pasted or source.facts_file or source.python)


class _Observing(Generic[T]):
    """`work()` in a thread, started now; `result()` waits for it and raises what it
    raised. Daemon: a lock that cannot be read ends envlock without waiting for a probe
    whose facts nobody needs (the torch child ends with it)."""

    def __init__(self, work: Callable[[], T]) -> None:
        import threading

        self._result: T | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, args=(work,), name="envlock-observe", daemon=True
        )
        self._thread.start()

    def _run(self, work: Callable[[], T]) -> None:
        try:
            self._result = work()
        except BaseException as exc:  # re-raised in the caller's thread
            self._error = exc

    def result(self) -> T:
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result


def _observe(source: Source, options: VerifyOptions) -> Facts:
    """The facts `source` names; an image runs on this host's driver and GPUs, so those
    come from the host (unless only the software is verified)."""
    sections = None if options.doctor_errors else options.sections
    if options.cache and sections is not None and source.torch_live and _local(source):
        from envlock.livecache import probe_with_cache

        return probe_with_cache(timeout=source.checked().timeout, sections=sections)[0]
    from envlock.collect import collect_facts_and_host

    facts, host = collect_facts_and_host(
        source, cache=options.cache, host=options.scope != "software"
    )
    if host is not None:
        from envlock.container.parse import merge_host_facts

        facts = merge_host_facts(facts, host)
    return facts


def _doctor_errors(facts: Facts) -> list[Finding]:
    from envlock.checks import run_checks
    from envlock.findings import Severity

    return [f for f in run_checks(facts) if f.severity is Severity.ERROR]


def _details(
    lock: str | os.PathLike[str] | Lock,
    locked: Lock,
    facts: Facts,
    findings: list[Finding],
    skip: frozenset[str],
    scope: str,
) -> VerifyDetails:
    from envlock.findings import VerifyDetails
    from envlock.verify import checked_fields

    failed_fields = {f.field for f in findings}
    return VerifyDetails(
        lock=os.fspath(lock) if isinstance(lock, (str, os.PathLike)) else "<Lock>",
        scope=scope,
        probe_notes=tuple(facts.meta.notes),
        ignored=tuple(sorted(skip)),
        passed=tuple(p for p in checked_fields(locked, scope) if p not in failed_fields),
    )
