"""The public Python API. `envlock.preflight`, `envlock.doctor`, `envlock.lock` and
`envlock.EnvironmentDriftError` are re-exported lazily by `envlock/__init__.py`;
`probe` and `verify` live here only (envlock.probe and envlock.verify are modules).

preflight() is meant for the first lines of a training script. It never
initialises CUDA (or imports torch) in the calling process: torch's live facts
come from the cache or from a child process.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from envlock.errors import EnvlockError, ExitCode
from envlock.facts import Facts
from envlock.findings import Report, Severity
from envlock.lockfile import DEFAULT_LOCK_NAME, read_lock


def probe(*, torch_live: bool = True, timeout: float = 60.0) -> Facts:
    """Facts of this interpreter's machine and environment (torch probed in a child process)."""
    from envlock.probe import probe_host

    return Facts.from_dict(probe_host(torch_live=torch_live, timeout=timeout))


def doctor(
    facts: Facts | None = None, *, strict: bool = False, ignore: Iterable[str] = ()
) -> Report:
    """Run every doctor check over `facts` (default: probe this machine)."""
    from envlock.checks import run_checks

    facts = facts if facts is not None else probe()
    findings = run_checks(facts, ignore=tuple(ignore))
    return Report(command="doctor", target=facts.meta.target, findings=findings, strict=strict)


def lock(
    path: str | os.PathLike[str] = DEFAULT_LOCK_NAME,
    facts: Facts | None = None,
    *,
    scope: str = "full",
) -> dict[str, Any]:
    """Write a lock for `facts` (default: this machine) atomically; return its table."""
    from envlock.lockfile import build_lock, dumps_lock, write_lock

    table = build_lock(facts if facts is not None else probe(), scope=scope)
    write_lock(path, dumps_lock(table, name=os.fspath(path)))
    return table


def verify(
    path: str | os.PathLike[str] = DEFAULT_LOCK_NAME,
    facts: Facts | None = None,
    *,
    scope: str = "full",
    strict: bool = False,
) -> Report:
    """Compare `facts` (default: this machine) with the lock at `path`."""
    from envlock.verify import verify as _verify

    locked = read_lock(path)
    facts = facts if facts is not None else probe()
    return Report(
        command="verify",
        target=facts.meta.target,
        strict=strict,
        findings=_verify(locked, facts, scope=scope),
        details={"lock": os.fspath(path)},
    )


class EnvironmentDriftError(EnvlockError):
    """The environment differs from the lock, or the doctor found an error. `.report` has why."""

    exit_code = ExitCode.FINDINGS

    def __init__(self, report: Report) -> None:
        self.report = report
        bad = [
            f
            for f in report.sorted_findings()
            if f.severity >= (Severity.WARNING if report.strict else Severity.ERROR)
        ]
        lines = [
            f"envlock pre-flight failed: {len(bad)} problem(s) with {report.details.get('lock')}"
        ]
        lines += [
            f"  [{f.check_id}] {f.message}" + (f" (fix: {f.fix})" if f.fix else "") for f in bad
        ]
        super().__init__("\n".join(lines))


def check(
    lock: str | os.PathLike[str] = DEFAULT_LOCK_NAME,
    *,
    scope: str = "full",
    strict: bool = False,
    determinism: bool | None = None,
    doctor: bool = True,
    use_cache: bool = True,
    timeout: float = 60.0,
) -> Report:
    """Verify this environment against `lock` (+ doctor errors); return the Report.

    determinism: None recomputes digests only if the lock has them; False never.
    """
    locked = read_lock(lock)
    if use_cache:
        from envlock.livecache import probe_with_cache

        facts = probe_with_cache(timeout=timeout)[0]
    else:
        facts = probe(timeout=timeout)
    from envlock.verify import verify_recomputing

    facts, findings = verify_recomputing(
        locked, facts, scope=scope, determinism=determinism is not False
    )
    if doctor:
        from envlock.checks import run_checks

        findings += [f for f in run_checks(facts) if f.severity is Severity.ERROR]
    return Report(
        command="preflight",
        target=facts.meta.target,
        findings=findings,
        strict=strict,
        details={"lock": str(lock), "scope": scope},
    )


def preflight(
    lock: str | os.PathLike[str] = DEFAULT_LOCK_NAME,
    *,
    scope: str = "full",
    strict: bool = False,
    determinism: bool | None = None,
    doctor: bool = True,
    use_cache: bool = True,
    timeout: float = 60.0,
) -> Report:
    """Raise EnvironmentDriftError if this environment drifted from `lock`; else return the Report.

        import envlock
        envlock.preflight("envlock.lock.toml")

    A lock that cannot be read raises envlock.LockError.
    """
    report = check(
        lock,
        scope=scope,
        strict=strict,
        determinism=determinism,
        doctor=doctor,
        use_cache=use_cache,
        timeout=timeout,
    )
    if report.failed:
        raise EnvironmentDriftError(report)
    return report
