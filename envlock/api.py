"""The one front door. Every command calls these functions, and so can Python code:

    import envlock
    envlock.preflight("envlock.lock.toml")            # raises EnvironmentDriftError on drift
    report = envlock.doctor(expect=["bf16"])          # a Report: .failed, .findings, .to_dict()
    lock = envlock.make_lock(envlock.Source(image="nvcr.io/nvidia/pytorch:24.05-py3"))
    report = envlock.verify_lock("envlock.lock.toml", ignore=["EL-VERIFY-NOT-LOCKED"])

Functions take typed options (a `Source` saying where the facts come from,
plain keyword arguments for the rest) and return Facts, a Lock or a Report;
they never print and never exit (envlock/cli.py maps a Report or an
EnvlockError to an exit code). preflight() never imports torch or creates a
CUDA context in the calling process: torch's live facts come from the cache
or from a child process.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from envlock.collect import Source
from envlock.errors import DeterminismError, EnvlockError, ExitCode

if TYPE_CHECKING:
    from envlock.facts import DeterminismFacts, Facts
    from envlock.findings import Finding, Report
    from envlock.lock import Lock
    from envlock.verify import Rule

# envlock.lock.model.DEFAULT_LOCK_NAME, repeated so that importing this module stays light:
# `envlock probe --image` starts its container before the Facts model is imported.
DEFAULT_LOCK_NAME = "envlock.lock.toml"


def collect_facts(source: Source | None = None, *, cache: bool = False) -> Facts:
    """Facts of this machine (default), another interpreter, an image, a container or a file."""
    from envlock.collect import collect_facts as _collect

    return _collect(source, cache=cache)


def doctor(
    source: Source | None = None,
    *,
    facts: Facts | None = None,
    host: Facts | None = None,
    expect: Iterable[str] = (),
    ignore: Iterable[str] = (),
    strict: bool = False,
) -> Report:
    """Every doctor check over `facts` (default: collected from `source`). For an image or a
    container, `host` holds this machine's driver and GPUs (collected when not given)."""
    from envlock.catalog import DOCTOR, ids, validate_ignore
    from envlock.checks import run_checks
    from envlock.findings import DoctorDetails, Report

    skip = validate_ignore(ignore, DOCTOR)
    expect = sorted(set(expect))
    if facts is None:
        from envlock.collect import collect_facts_and_host

        facts, collected_host = collect_facts_and_host(source)
        host = host or collected_host
    findings = run_checks(facts, host=host, ignore=skip, expect=expect)
    return Report(
        command="doctor",
        target=_target(source, facts),
        findings=findings,
        strict=strict,
        details=DoctorDetails(
            checks=len(ids(DOCTOR) - skip),
            ignored=tuple(sorted(skip)),
            expect=tuple(expect),
            interpreter=_interpreter(facts),
            not_checked=(*not_checked(facts), *_checks_without_facts(facts, host, skip)),
        ),
    )


def _checks_without_facts(facts: Facts, host: Facts | None, skip: frozenset[str]) -> list[str]:
    """For partial facts (a pasted report, a fallback probe): the checks that had nothing
    to look at, so that their silence is not read as a pass."""
    if not facts.meta.partial:
        return []
    from envlock.checks.needs import missing_for

    return [f"{cid}: {why}" for cid, why in missing_for(facts, host, skip=skip).items()]


def _interpreter(facts: Facts) -> str | None:
    """The interpreter the facts describe ("/usr/bin/python3 (Python 3.11.2)")."""
    py = facts.system.python
    if py is None or not (py.executable or py.version):
        return None
    return " ".join(
        part for part in (py.executable, f"(Python {py.version})" if py.version else None) if part
    )


def not_checked(facts: Facts) -> list[str]:
    """What a partial probe (a shell fallback, an unobservable torch) could not see, one
    "section: why" each: a pass says nothing about these."""
    if not facts.meta.partial and not facts.torch.unavailable:
        return []
    live = facts.torch.live
    return [
        f"{name}: {why}"
        for name, why in (
            ("torch", facts.torch.unavailable),
            ("torch.live", live.unavailable if live else None),
            ("driver", facts.driver.unavailable),
            ("cuda", facts.cuda.unavailable),
            ("packages", facts.packages.unavailable),
        )
        if why
    ]


def run_determinism(
    *,
    device: str = "auto",
    seed: int = 0,
    python: str | None = None,
    timeout: float = 300.0,
    strict: bool = False,
) -> tuple[DeterminismFacts, Report]:
    """Run the seeded suite in a child process; the Report holds its run-to-run findings."""
    from envlock.determinism.compare import run_to_run_findings
    from envlock.determinism.runner import run_suite
    from envlock.findings import DeterminismDetails, Report

    det = run_suite(device=device, seed=seed, python=python, timeout=timeout)
    report = Report(
        command="determinism",
        target=f"python:{python}" if python else "host",
        findings=run_to_run_findings(det),
        strict=strict,
        details=DeterminismDetails(determinism=det),
    )
    return det, report


def make_lock(
    source: Source | None = None,
    *,
    facts: Facts | None = None,
    scope: str = "full",
    determinism: bool = False,
    seed: int = 0,
    device: str = "auto",
    allow_partial: bool = False,
) -> Lock:
    """The lock of `facts` (default: collected from `source`), with determinism digests when
    asked. Digests that differ between two runs in one process are refused, and so are
    partial facts without torch's (an image without a usable python3) unless
    `allow_partial`: such a lock would pin almost nothing and verify would pass."""
    from envlock.findings import Severity
    from envlock.lock import build_lock

    source = source or Source()
    facts = facts if facts is not None else collect_facts(source)
    if facts.meta.partial and not (facts.torch.installed and facts.torch.version):
        missing = not_checked(facts)
        if not allow_partial:
            from envlock.errors import FactsError

            raise FactsError(
                f"not locking partial facts of {_target(source, facts)}: torch was not "
                f"observed ({missing[0] if missing else 'partial probe'}); "
                "--allow-partial writes the lock anyway"
            )
    if determinism:
        from envlock.determinism.compare import run_to_run_findings
        from envlock.determinism.runner import run_suite

        det = run_suite(device=device, seed=seed, python=source.python)
        bad = [f for f in run_to_run_findings(det) if f.severity is Severity.ERROR]
        if bad:
            raise DeterminismError(
                f"not locking nondeterministic digests: {bad[0].message}"
                + (f" (and {len(bad) - 1} more)" if len(bad) > 1 else "")
            )
        facts = facts.replace(determinism=det)
    return build_lock(facts, scope=scope)


def write_lock(
    path: str | os.PathLike[str] = DEFAULT_LOCK_NAME,
    source: Source | None = None,
    *,
    facts: Facts | None = None,
    scope: str = "full",
    determinism: bool = False,
    seed: int = 0,
    device: str = "auto",
    allow_partial: bool = False,
) -> Lock:
    """make_lock(), written atomically to `path` (an interrupted write keeps the old lock)."""
    from envlock.lock import dumps_lock
    from envlock.lock import write_lock as _write

    lock = make_lock(
        source,
        facts=facts,
        scope=scope,
        determinism=determinism,
        seed=seed,
        device=device,
        allow_partial=allow_partial,
    )
    _write(path, dumps_lock(lock, name=os.fspath(path)))
    return lock


def read_lock(path: str | os.PathLike[str] = DEFAULT_LOCK_NAME) -> Lock:
    """The typed lock at `path`; a LockError (one line) when it cannot be read."""
    from envlock.lock import read_lock as _read

    return _read(path)


def verify_lock(
    lock: str | os.PathLike[str] | Lock = DEFAULT_LOCK_NAME,
    source: Source | None = None,
    *,
    facts: Facts | None = None,
    scope: str = "full",
    rules: Sequence[str | Rule] = (),
    ignore: Iterable[str] = (),
    determinism: bool = True,
    cache: bool = False,
    strict: bool = False,
) -> Report:
    """Compare this environment (or `source`, or `facts`) with a lock; the Report says what
    drifted. `rules` override field rules ("packages.numpy=warn"); `determinism=False` does
    not recompute locked digests; `cache` lets torch's live facts come from the cache."""
    return _verify(
        lock,
        source,
        facts=facts,
        scope=scope,
        rules=rules,
        ignore=ignore,
        determinism=determinism,
        cache=cache,
        strict=strict,
    )[0]


def _verify(
    lock: str | os.PathLike[str] | Lock,
    source: Source | None,
    *,
    facts: Facts | None,
    scope: str,
    rules: Sequence[str | Rule],
    ignore: Iterable[str],
    determinism: bool,
    cache: bool,
    strict: bool,
    doctor_errors: bool = False,
    command: str = "verify",
) -> tuple[Report, Facts]:
    from envlock.catalog import DETERMINISM, DOCTOR, VERIFY, validate_ignore
    from envlock.findings import Report, Severity, VerifyDetails
    from envlock.verify import Rule, checked_fields, parse_rule_override
    from envlock.verify import verify as compare

    source = source or Source()
    skip = validate_ignore(ignore, VERIFY, DETERMINISM, *((DOCTOR,) if doctor_errors else ()))
    overrides = [r if isinstance(r, Rule) else parse_rule_override(r) for r in rules]
    locked = lock if not isinstance(lock, (str, os.PathLike)) else read_lock(lock)
    if facts is None:
        from envlock.collect import collect_facts_and_host

        # An image runs on this host's driver and GPUs: those come from the host.
        facts, host = collect_facts_and_host(source, cache=cache, host=scope != "software")
        if host is not None:
            from envlock.container.parse import merge_host_facts

            facts = merge_host_facts(facts, host)
    skipped = None
    if determinism:
        from envlock.collect import with_fresh_determinism

        facts, skipped = with_fresh_determinism(locked, facts, python=source.python)
    findings = compare(
        locked,
        facts,
        scope=scope,
        rules=overrides,
        determinism_skipped=skipped if determinism else None,
    )
    if doctor_errors:
        from envlock.checks import run_checks

        findings += [f for f in run_checks(facts) if f.severity is Severity.ERROR]
    findings = [f for f in findings if f.check_id not in skip]
    failed_fields = {f.field for f in findings}
    details = VerifyDetails(
        lock=os.fspath(lock) if isinstance(lock, (str, os.PathLike)) else "<Lock>",
        scope=scope,
        probe_notes=tuple(facts.meta.notes),
        ignored=tuple(sorted(skip)),
        passed=tuple(p for p in checked_fields(locked, scope) if p not in failed_fields),
    )
    report = Report(
        command=command,
        target=_target(source, facts),
        findings=findings,
        strict=strict,
        details=details,
    )
    return report, facts


def verify_distributed(
    lock: str | os.PathLike[str] | Lock = DEFAULT_LOCK_NAME,
    source: Source | None = None,
    *,
    scope: str = "full",
    rules: Sequence[str | Rule] = (),
    ignore: Iterable[str] = (),
    determinism: bool = True,
    cache: bool = False,
    strict: bool = False,
    timeout: float = 60.0,
    on_report: Callable[[int, str, Report], None] | None = None,
    smoke: bool = False,
    smoke_timeout: float = 30.0,
) -> Report:
    """Under torchrun: every rank verifies, the ranks' summaries are gathered over gloo, and
    every rank gets the same fleet Report (with `smoke`, also the outcome of one all-reduce on
    the job's backend within `smoke_timeout` s). `on_report(rank, host, report)` runs on every rank
    before the ranks leave together (rank 0 prints it there, while the launch is still up)."""
    from envlock import fleet
    from envlock.catalog import DETERMINISM, FLEET, KINDS, VERIFY, validate_ignore
    from envlock.findings import DistributedDetails, Report

    skip = validate_ignore(ignore, VERIFY, DETERMINISM, FLEET)
    own_ignore = [i for i in skip if KINDS[i].source != FLEET]
    local, facts = _verify(
        lock,
        source,
        facts=None,
        scope=scope,
        rules=rules,
        ignore=own_ignore,
        determinism=determinism,
        cache=cache,
        strict=strict,
    )
    env = fleet.torchrun_env()
    rank = env[0] if env else 0
    host = fleet.hostname()
    summary = fleet.summarize(rank, host, facts, local.findings, scope)
    group = fleet.Rendezvous.join(timeout=timeout)
    summaries = group.all_gather(summary)
    findings = [f for f in fleet.compare_ranks(summaries) if f.check_id not in skip]
    smoke_failed: list[Finding] = []
    smoke_seconds = 0.0
    if smoke:  # one all-reduce on the job's backend, before the training script starts
        import time

        started = time.monotonic()
        smoke_failed = group.smoke(timeout=smoke_timeout)
        smoke_seconds = round(time.monotonic() - started, 2)
        findings += [f for f in smoke_failed if f.check_id not in skip]
    details = DistributedDetails.gathered(
        local.details,
        world_size=len(summaries),
        hosts=sorted({s.host for s in summaries}),
        smoke=(bool(smoke_failed), smoke_seconds) if smoke else None,
    )
    report = Report(
        command="verify --distributed",
        target=f"{len(summaries)} ranks",
        findings=findings,
        strict=strict,
        details=details,
    )
    if on_report is not None:
        on_report(rank, host, report)
    group.leave()
    return report


def fleet_report(
    directory: str,
    lock: str | os.PathLike[str] | Lock | None = None,
    *,
    scope: str = "full",
    ignore: Iterable[str] = (),
    strict: bool = False,
    nodes: str | Sequence[str] | None = None,
) -> Report:
    """Per-node facts files in `directory` (from `envlock probe --json`) compared like the
    ranks of one job, and with `lock` when given. `nodes`: the nodes expected (a Slurm
    hostlist such as 'gpu-node-[000-063]', or names); those without a file are missing."""
    from envlock import fleet
    from envlock.catalog import DETERMINISM, FLEET, VERIFY, validate_ignore
    from envlock.findings import FleetDetails, Report

    skip = validate_ignore(ignore, FLEET, VERIFY, DETERMINISM)
    locked = read_lock(lock) if isinstance(lock, (str, os.PathLike)) else lock
    expected = None
    if nodes is not None:
        expected = fleet.Hostlist.parse(nodes)  # held as ranges, never expanded
    summaries, findings = fleet.report_dir(directory, locked, scope=scope, expected=expected)
    return Report(
        command="fleet report",
        target=f"{len(summaries)} nodes",
        findings=[f for f in findings if f.check_id not in skip],
        strict=strict,
        details=FleetDetails(
            nodes=tuple(s.host for s in summaries),
            expected_nodes=len(expected) if expected is not None else None,
            ignored=tuple(sorted(skip)),
            lock=os.fspath(lock) if isinstance(lock, (str, os.PathLike)) else None,
        ),
    )


def _kernel_log(source: Source | None) -> str:
    """This machine's kernel log, only when the facts are this machine's (the host, another
    interpreter, or a container, which runs on this kernel): never beside a facts file or
    a pasted report from elsewhere."""
    source = source or Source()
    if source.facts_file or source.pasted:
        return f"not read: the facts come from {source.target}, not this machine"
    from envlock.probe.kernellog import last_oom_line

    return last_oom_line()


def explain(
    text: str, source: Source | None = None, *, checks: bool = True, strict: bool = False
) -> Report:
    """What an exit code or an error message means, with the doctor checks that confirm it
    run on this machine (or `source`). details (ExplainDetails) holds the explanations."""
    from envlock.explain import explain_exit_code, explain_message, memory_evidence, oom_evidence
    from envlock.findings import ExplainDetails, ExplanationItem, Report

    text = text.strip()
    # ASCII digits and a sane length: "²" passes isdigit() and 5,000 digits crash int()
    is_code = re.fullmatch(r"-?[0-9]{1,9}", text) is not None
    explanations = [explain_exit_code(int(text))] if is_code else explain_message(text)
    wanted = sorted({c for e in explanations for c in e.checks})
    findings: list[Finding] = []
    evidence: dict[str, str] = {}
    oom = is_code and int(text) in (137, -9)
    cuda_oom = any(e.key == "cuda-oom" for e in explanations)
    gpu_error = any(e.gpu for e in explanations)
    gpu_note: str | None = None
    facts: Facts | None = None
    if checks and (wanted or oom or cuda_oom or gpu_error):
        from envlock.checks import run_checks

        facts = collect_facts(source)
        if wanted:
            findings = [f for f in run_checks(facts) if f.check_id in wanted]
        if oom:
            evidence = memory_evidence(
                facts.system.cgroup_memory_limit_bytes,
                facts.system.memory_total_bytes,
                facts.system.cgroup_version,
                kernel_log=_kernel_log(source),
            )
        if gpu_error and not (facts.driver.gpus or facts.driver.pci_gpus):
            # a GPU runtime error explained on a machine that has none: nothing here
            # can confirm or rule out its cause
            gpu_note = (
                "no NVIDIA GPU is visible here "
                f"({facts.driver.unavailable or 'none found'}): the cause cannot be "
                "confirmed on this machine; run `envlock explain` where the error happened"
            )
    if cuda_oom:
        conf = facts.env.variables.get("PYTORCH_CUDA_ALLOC_CONF") if facts else None
        evidence.update(oom_evidence(text, conf, observed=facts is not None))
    return Report(
        command="explain",
        target=text,
        findings=findings,
        strict=strict,
        details=ExplainDetails(
            explanations=tuple(
                ExplanationItem(
                    key=e.key,
                    title=e.title,
                    cause=e.cause,
                    fix=e.fix,
                    checks=e.checks,
                    source=e.source,
                )
                for e in explanations
            ),
            evidence=evidence,
            checked=checks,
            wanted=tuple(wanted),
            gpu_note=gpu_note,
        ),
    )


def bug_report(
    source: Source | None = None, *, facts: Facts | None = None, anonymize: bool = True
) -> dict[str, Any]:
    """A report to paste into a bug tracker: the facts (of `source`, or `facts`) as a facts
    document that `doctor --facts` reads back, with the doctor's findings, the top one and
    the checks that lacked facts under "envlock_report". `anonymize` replaces hostnames,
    usernames, home directories, GPU UUIDs and secrets (envlock/report/anonymize.py)."""
    from envlock.checks.triage import top_finding
    from envlock.findings import DoctorDetails, ReportDetails

    host: Facts | None = None
    if facts is None:
        from envlock.collect import collect_facts_and_host

        facts, host = collect_facts_and_host(source)
    report = doctor(source, facts=facts, host=host)
    top = top_finding(report.findings)
    doctor_doc = report.to_dict()
    own = report.details
    doctor_doc["not_checked"] = list(own.not_checked) if isinstance(own, DoctorDetails) else []
    doctor_doc.pop("details", None)
    meta = ReportDetails(
        anonymized=anonymize, doctor=doctor_doc, top=top.to_dict() if top else None
    )
    doc: dict[str, Any] = {**facts.to_dict(), "envlock_report": meta.to_dict()}
    if not anonymize:
        return doc
    import getpass
    import socket

    from envlock.report.anonymize import anonymize as scrub

    hostnames = [h for h in (facts.system.hostname, host.system.hostname if host else None) if h]
    usernames: list[str] = []
    homes: list[str] = []
    if source is None or not (source.pasted or source.facts_file):
        # facts of this machine: its own names are known for certain
        hostnames.append(socket.gethostname())
        import contextlib

        # no passwd entry (a container's arbitrary uid): KeyError/OSError
        with contextlib.suppress(KeyError, OSError):
            usernames.append(getpass.getuser())
        homes.append(os.path.expanduser("~"))
    out: dict[str, Any] = scrub(doc, hostnames=hostnames, usernames=usernames, homes=homes)
    return out


class EnvironmentDriftError(EnvlockError):
    """The environment differs from the lock, or the doctor found an error. `.report` has why."""

    exit_code = ExitCode.FINDINGS

    def __init__(self, report: Report) -> None:
        from envlock.findings import Severity, VerifyDetails

        self.report = report
        lock = report.details.lock if isinstance(report.details, VerifyDetails) else None
        bad = [
            f
            for f in report.sorted_findings()
            if f.severity >= (Severity.WARNING if report.strict else Severity.ERROR)
        ]
        lines = [f"envlock pre-flight failed: {len(bad)} problem(s) with {lock}"]
        lines += [
            f"  [{f.check_id}] {f.message}" + (f" (fix: {f.fix})" if f.fix else "") for f in bad
        ]
        super().__init__("\n".join(lines))


def check(
    lock: str | os.PathLike[str] | Lock = DEFAULT_LOCK_NAME,
    *,
    scope: str = "full",
    strict: bool = False,
    determinism: bool | None = None,
    doctor: bool = True,
    use_cache: bool = True,
    ignore: Iterable[str] = (),
    timeout: float = 60.0,
) -> Report:
    """Verify this environment against `lock` (plus the doctor's errors); return the Report.

    determinism: None or True recompute the digests the lock has; False never does.
    """
    return _verify(
        lock,
        Source(timeout=timeout),
        facts=None,
        scope=scope,
        rules=(),
        ignore=ignore,
        determinism=determinism is not False,
        cache=use_cache,
        strict=strict,
        doctor_errors=doctor,
        command="preflight",
    )[0]


def preflight(lock: str | os.PathLike[str] | Lock = DEFAULT_LOCK_NAME, **options: Any) -> Report:
    """Raise EnvironmentDriftError if this environment drifted from `lock`; else return the
    Report. Takes check()'s options (scope, strict, determinism, doctor, use_cache, ignore,
    timeout).

        import envlock
        envlock.preflight("envlock.lock.toml")

    A lock that cannot be read raises envlock.LockError.
    """
    report = check(lock, **options)
    if report.failed:
        raise EnvironmentDriftError(report)
    return report


def _target(source: Source | None, facts: Facts) -> str:
    return (source.target if source else None) or facts.meta.target


# ------------------------------------------------------------- export / restore (issue 13)
def add_hashes(
    lock: Lock,
    *,
    index: str | None = None,
    python: str | None = None,
    pylock: str | None = None,
) -> Lock:
    """The lock with [files]: sha256 of the files that fit its platform, from a resolver's
    `pylock` file where it has the locked version, else from the JSON simple API (PEP 691)
    of `index` (default: the one pip is configured with)."""
    from envlock.install.index import files_from_pylock, with_hashes

    known = files_from_pylock(pylock, lock) if pylock else None
    return with_hashes(lock, index=index, python=python, known=known)


def export_lock(
    lock: str | os.PathLike[str] | Lock,
    fmt: str,
    *,
    variant: str | None = None,
    torch_index: str | None = None,
    base: str | None = None,
    wheelhouse: str | None = None,
    envlock_spec: str = "envlock",
) -> str:
    """The lock as `requirements`, `pylock` (PEP 751 TOML) or `dockerfile` text."""
    from envlock import __version__
    from envlock.errors import RestoreError
    from envlock.lock.export import (
        dockerfile_text,
        plan_install,
        pylock_document,
        requirements_text,
    )

    locked = lock if not isinstance(lock, (str, os.PathLike)) else read_lock(lock)
    name = os.path.basename(os.fspath(lock)) if isinstance(lock, (str, os.PathLike)) else None
    default = None
    if variant is not None:
        from envlock.lock.hold import default_variant
        from envlock.matrix import load_matrix

        default = default_variant(locked, load_matrix(), requested=variant)
    plan = plan_install(locked, variant=variant, default_variant=default, torch_index=torch_index)
    header = (
        f"generated by envlock {__version__} from {name or 'a lock'} "
        f"(lock-version {locked.version})"
    )
    if fmt == "requirements":
        return requirements_text(plan, header=header)
    if fmt == "pylock":
        import tomli_w

        return tomli_w.dumps(pylock_document(locked, plan, created_by=f"envlock {__version__}"))
    if fmt == "dockerfile":
        return dockerfile_text(
            locked,
            plan,
            base=_dockerfile_base(locked, base, lock),
            lock_name=name or DEFAULT_LOCK_NAME,
            requirements_name="requirements.envlock.txt",
            wheelhouse=wheelhouse,
            envlock_spec=envlock_spec,
        )
    raise RestoreError(f"unknown export format {fmt!r}")


def _dockerfile_base(locked: Lock, base: str | None, lock: str | os.PathLike[str] | Lock) -> str:
    """The image FROM names: --base (exit 2 when it is not a reference), else the lock's
    digest (exit 3 naming the lock when it is not one)."""
    from envlock.errors import LockError, RestoreError, UsageError
    from envlock.imageref import ImageReference, InvalidReference

    image = base or (locked.image.digest if locked.image else None)
    if not image:
        raise RestoreError(
            "--format dockerfile needs --base IMAGE (the lock did not come from an image)"
        )
    try:  # FROM takes exactly an image reference: nothing else reaches the line
        ImageReference.parse(image)
    except InvalidReference as exc:
        if base:
            raise UsageError(f"--base {base!r}: not an image reference ({exc})") from None
        where = os.fspath(lock) if isinstance(lock, (str, os.PathLike)) else "the lock"
        raise LockError(
            f"{where}: in 'image.digest': {image!r} is not an image reference ({exc})"
        ) from None
    return image


def restore_lock(
    lock: str | os.PathLike[str],
    *,
    venv: str | None = None,
    python: str | None = None,
    base_python: str | None = None,
    variant: str | None = None,
    installer: str = "auto",
    torch_index: str | None = None,
    dry_run: bool = False,
    host: Facts | None = None,
    strict: bool = False,
    ignore: Iterable[str] = (),
    log: Callable[[str], None] = lambda line: None,
    force: bool = False,
) -> RestoreOutcome:
    """Install exactly the lock (into a new venv that replaces only the old one's own
    entries, and only once it verified; `force`: build beside foreign files, which stay;
    or into `python`), after holding its torch variant against this machine's driver and
    GPUs (`host`: facts of the machine to hold it against; default: probed here)."""
    from envlock import __version__
    from envlock.install.restore import choose_installer, dry_run_lines, install, plan_steps
    from envlock.lock.export import plan_install
    from envlock.lock.hold import hold_variant
    from envlock.matrix import load_matrix

    locked = read_lock(lock)
    if not locked.packages:
        from envlock.errors import RestoreError

        raise RestoreError(f"{os.fspath(lock)}: the lock holds no [packages]: nothing to restore")
    wanted = variant or (locked.torch.variant if locked.torch else None)
    if host is None and wanted and wanted.startswith("cu"):
        # only a CUDA build is held against this machine's driver and GPUs
        from envlock.collect import probe_this_host

        host = probe_this_host(torch_live=False)
    held = hold_variant(locked, host, load_matrix(), requested=variant)
    if held.runs is False:
        return RestoreOutcome(hold=held, blocked=True)
    plan = plan_install(
        locked,
        variant=variant,
        default_variant=held.default_variant,
        torch_index=torch_index,
    )
    chosen = choose_installer(installer)
    from envlock.install.restore import REQUIREMENTS

    inst = plan_steps(
        plan,
        requirements=REQUIREMENTS,
        venv=venv,
        python=python,
        base_python=base_python,
        installer=chosen,
        locked_python=locked.system.python if locked.system else None,
        force=force,
    )
    if dry_run:
        return RestoreOutcome(hold=held, plan=plan, commands=dry_run_lines(inst), dry_run=True)
    header = f"envlock {__version__} restore of {os.fspath(lock)}"
    swap = install(inst, plan, header=header, log=log)
    report = _verify_restored(locked, inst.python, plan, swap, strict=strict, ignore=ignore)
    report = report.with_details(lock=os.fspath(lock))
    return RestoreOutcome(
        hold=held, plan=plan, commands=dry_run_lines(inst), report=report, installer=chosen
    )


def _verify_restored(
    locked: Lock, python: str, plan: Any, swap: Any, *, strict: bool, ignore: Iterable[str]
) -> Report:
    """verify's Report on what restore installed. A new venv (`swap`) stays only when it
    verified, bar what the plan knew it could not restore: else the old one goes back."""
    # torch's live child (an import of torch) only when the lock holds what it observes
    live = locked.torch is not None and any(
        v is not None for v in (locked.torch.cudnn, locked.torch.nccl, locked.torch.arch_flags)
    )
    try:
        report = verify_lock(
            locked,
            Source(python=python, torch_live=live),
            scope="software",
            rules=[f"{f}=warn" for f in plan.differs],
            determinism=False,
            strict=strict,
            ignore=ignore,
        )
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


def _restore_failed(report: Report, plan: Any) -> bool:
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


class RestoreOutcome:
    """What restore did: the variant verdict, the plan, the commands and verify's Report
    (None for a dry run or when the locked build cannot run here)."""

    def __init__(
        self,
        *,
        hold: Any,
        plan: Any = None,
        commands: list[str] | None = None,
        report: Report | None = None,
        blocked: bool = False,
        dry_run: bool = False,
        installer: str | None = None,
    ) -> None:
        self.hold = hold
        self.plan = plan
        self.commands = commands or []
        self.report = report
        self.blocked = blocked
        self.dry_run = dry_run
        self.installer = installer
