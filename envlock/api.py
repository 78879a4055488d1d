"""The one front door. Every command calls these functions, and so can Python code:

    import envlock
    envlock.preflight("envlock.lock.toml")            # raises EnvironmentDriftError on drift
    report = envlock.doctor(expect=["bf16"])          # a Report: .failed, .findings, .to_dict()
    lock = envlock.make_lock(envlock.Source(image="nvcr.io/nvidia/pytorch:24.05-py3"))
    report = envlock.verify_lock("envlock.lock.toml", ignore=["EL-VERIFY-NOT-LOCKED"])

Functions take typed options (a `Source` saying where the facts come from,
plain keyword arguments for the rest) and return Facts, a Lock, a Report or a
use case's typed result; they never print and never exit (envlock/cli.py maps a
Report or an EnvlockError to an exit code). Each is one call into its use case
(envlock/usecases/), loaded on first use. preflight() never imports torch or
creates a CUDA context in the calling process: torch's live facts come from the
cache or from a child process. The way back from a lock to an environment
(add_hashes, export_lock, write_export, restore_lock) is envlock/api_install.py's,
re-exported here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from envlock.api_install import add_hashes as add_hashes
from envlock.api_install import export_lock as export_lock
from envlock.api_install import restore_lock as restore_lock
from envlock.api_install import write_export as write_export
from envlock.api_plan import doctor_plan as doctor_plan
from envlock.api_plan import plan_advice as plan_advice
from envlock.collect import PROBE_TIMEOUT_S as PROBE_TIMEOUT_S
from envlock.collect import Source as Source

if TYPE_CHECKING:
    from typing_extensions import Unpack  # for mypy only (PEP 692 on Python 3.10)

    from envlock.catalog import Kind
    from envlock.facts import DeterminismFacts, Facts
    from envlock.findings import Report
    from envlock.lock import Lock
    from envlock.probe.shapes import FactsDoc
    from envlock.report.progress import Progress
    from envlock.usecases.drift import CheckOptions
    from envlock.usecases.drift import EnvironmentDriftError as EnvironmentDriftError
    from envlock.usecases.hold import Hold as Hold
    from envlock.usecases.lock import LockFile as LockFile
    from envlock.usecases.matrix import MatrixAdvice as MatrixAdvice
    from envlock.usecases.matrix import TorchBuild as TorchBuild
    from envlock.usecases.plan import PlanAdvice as PlanAdvice
    from envlock.usecases.report import BugReport as BugReport
    from envlock.usecases.restore import RestoreOutcome as RestoreOutcome
    from envlock.usecases.run import RunCheck as RunCheck
    from envlock.verify import Rule

# envlock.lock.model.DEFAULT_LOCK_NAME, repeated so that importing this module stays light:
# `envlock probe --image` starts its container before the Facts model is imported.
DEFAULT_LOCK_NAME = "envlock.lock.toml"

# The use cases' typed results (and preflight's error), loaded on first use like the use
# cases themselves.
_RESULTS = {
    "BugReport": "envlock.usecases.report",
    "EnvironmentDriftError": "envlock.usecases.drift",
    "Hold": "envlock.usecases.hold",
    "LockFile": "envlock.usecases.lock",
    "MatrixAdvice": "envlock.usecases.matrix",
    "PlanAdvice": "envlock.usecases.plan",
    "RestoreOutcome": "envlock.usecases.restore",
    "TorchBuild": "envlock.usecases.matrix",
}


def __getattr__(name: str) -> object:  # PEP 562
    module = _RESULTS.get(name)
    if module is None:
        raise AttributeError(f"module 'envlock.api' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


def collect_facts(source: Source | None = None, *, cache: bool = False) -> Facts:
    """Facts of this machine (default), another interpreter, an image, a container or a file."""
    from envlock.collect import collect_facts as _collect

    return _collect(source, cache=cache)


def collect_document(source: Source | None = None, *, cache: bool = False) -> FactsDoc:
    """collect_facts() as the facts' JSON document; this host's probe builds no Facts model
    for it (`envlock probe`'s tables)."""
    from envlock.collect import collect_document as _collect

    return _collect(source, cache=cache)


def doctor(
    source: Source | None = None,
    *,
    facts: Facts | None = None,
    host: Facts | None = None,
    expect: Iterable[str] = (),
    ignore: Iterable[str] = (),
    strict: bool = False,
    cache: bool = False,
) -> Report:
    """Every doctor check over `facts` (default: collected from `source`). For an image or a
    container, `host` holds this machine's driver and GPUs (collected when not given).
    `cache` lets torch's live facts come from the cache (envlock/livecache.py)."""
    from envlock.usecases.doctor import doctor as _doctor

    return _doctor(
        source, facts=facts, host=host, expect=expect, ignore=ignore, strict=strict, cache=cache
    )


def list_checks() -> list[Kind]:
    """Every finding kind (ID, title, default severity, the command that reports it), the
    doctor's first: what `--ignore` takes."""
    from envlock.usecases.doctor import finding_kinds

    return finding_kinds()


def not_checked(facts: Facts) -> list[str]:
    """What a partial probe (a shell fallback, an unobservable torch) could not see, one
    "section: why" each: a pass says nothing about these."""
    from envlock.usecases._shared import not_checked as _not_checked

    return _not_checked(facts)


def run_determinism(
    *,
    device: str = "auto",
    seed: int = 0,
    python: str | None = None,
    timeout: float = 300.0,
    strict: bool = False,
    progress: Progress | None = None,
) -> tuple[DeterminismFacts, Report]:
    """Run the seeded suite in a child process; the Report holds its run-to-run findings.
    `progress` hears the classes run (envlock.report.progress; default: silent)."""
    from envlock.usecases.determinism import run_determinism as _run

    return _run(
        device=device,
        seed=seed,
        python=python,
        timeout=timeout,
        strict=strict,
        progress=progress,
    )


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
    from envlock.usecases.lock import LockOptions
    from envlock.usecases.lock import make_lock as _make

    options = LockOptions(
        scope=scope, determinism=determinism, seed=seed, device=device, allow_partial=allow_partial
    )
    return _make(source, facts=facts, options=options)


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
    hashes: bool = False,
    hashes_from: str | None = None,
) -> Lock:
    """make_lock(), written atomically to `path` (an interrupted write keeps the old lock).
    `hashes`: add_hashes() first (from the `hashes_from` pylock where it has them). The
    file is the one `envlock lock` writes with the same options: its header says how to
    make it again and how to verify it."""
    return lock_file(
        path,
        source,
        facts=facts,
        scope=scope,
        determinism=determinism,
        seed=seed,
        device=device,
        allow_partial=allow_partial,
        hashes=hashes,
        hashes_from=hashes_from,
    ).lock


def lock_file(
    path: str | os.PathLike[str] | None = DEFAULT_LOCK_NAME,
    source: Source | None = None,
    *,
    facts: Facts | None = None,
    scope: str = "full",
    determinism: bool = False,
    seed: int = 0,
    device: str = "auto",
    allow_partial: bool = False,
    hashes: bool = False,
    hashes_from: str | None = None,
    progress: Progress | None = None,
) -> LockFile:
    """write_lock()'s whole result: the Lock, the file's text and the installs restore
    cannot repeat. `path` None writes nothing (the text is for stdout). `progress` hears
    the long work (envlock.report.progress; default: silent)."""
    from envlock.usecases.lock import LockOptions
    from envlock.usecases.lock import lock_file as _lock_file

    options = LockOptions(
        scope=scope,
        determinism=determinism,
        seed=seed,
        device=device,
        allow_partial=allow_partial,
        hashes=hashes,
        hashes_from=hashes_from,
        progress=progress,
    )
    where = os.fspath(path) if path is not None else None
    return _lock_file(where, source, facts=facts, options=options)


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
    from envlock.usecases.verify import VerifyOptions, verify_report

    options = VerifyOptions(
        scope=scope,
        rules=rules,
        ignore=ignore,
        determinism=determinism,
        cache=cache,
        strict=strict,
    )
    return verify_report(lock, source, facts=facts, options=options)


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
    from envlock.usecases.distributed import verify_distributed as _distributed
    from envlock.usecases.verify import VerifyOptions

    options = VerifyOptions(
        scope=scope,
        rules=rules,
        ignore=ignore,
        determinism=determinism,
        cache=cache,
        strict=strict,
    )
    return _distributed(
        lock,
        source,
        options=options,
        timeout=timeout,
        on_report=on_report,
        smoke=smoke,
        smoke_timeout=smoke_timeout,
    )


def fleet_report(
    directory: str,
    lock: str | os.PathLike[str] | Lock | None = None,
    *,
    scope: str = "full",
    ignore: Iterable[str] = (),
    strict: bool = False,
    nodes: str | Sequence[str] | None = None,
    progress: Progress | None = None,
) -> Report:
    """Per-node facts files in `directory` (from `envlock probe --json`) compared like the
    ranks of one job, and with `lock` when given. `nodes`: the nodes expected (a Slurm
    hostlist such as 'gpu-node-[000-063]', or names); those without a file are missing.
    `progress` hears the files read (envlock.report.progress; default: silent)."""
    from envlock.usecases.fleet import fleet_report as _fleet

    return _fleet(
        directory, lock, scope=scope, ignore=ignore, strict=strict, nodes=nodes, progress=progress
    )


def explain(
    text: str,
    source: Source | None = None,
    *,
    checks: bool = True,
    strict: bool = False,
    cache: bool = False,
) -> Report:
    """What an exit code or an error message means, with the doctor checks that confirm it
    run on this machine (or `source`). details (ExplainDetails) holds the explanations.
    `cache` lets torch's live facts come from the cache; text that no check confirms
    (an exit code 137) needs no torch at all."""
    from envlock.usecases.explain import explain as _explain

    return _explain(text, source, checks=checks, strict=strict, cache=cache)


def bug_report(
    source: Source | None = None,
    *,
    facts: Facts | None = None,
    anonymize: bool = True,
    cache: bool = False,
) -> dict[str, object]:
    """A report to paste into a bug tracker: the facts (of `source`, or `facts`) as a facts
    document that `doctor --facts` reads back, with the doctor's findings, the top one and
    the checks that lacked facts under "envlock_report". `anonymize` replaces hostnames,
    usernames, home directories, GPU UUIDs and secrets (envlock/report/anonymize.py).
    `cache` lets torch's live facts come from the cache."""
    return make_bug_report(source, facts=facts, anonymize=anonymize, cache=cache).document


def make_bug_report(
    source: Source | None = None,
    *,
    facts: Facts | None = None,
    anonymize: bool = True,
    cache: bool = False,
) -> BugReport:
    """bug_report() as a typed result: its `document`, and the view the Markdown renderer
    reads (`markdown_doc()`)."""
    from envlock.usecases.report import bug_report as _report

    return _report(source, facts=facts, anonymize=anonymize, cache=cache)


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
    from envlock.usecases.verify import VerifyOptions, verify_report

    options = VerifyOptions(
        scope=scope,
        ignore=ignore,
        determinism=determinism is not False,
        cache=use_cache,
        strict=strict,
        doctor_errors=doctor,
        command="preflight",
    )
    return verify_report(lock, Source(timeout=timeout), facts=None, options=options)


def run_check(
    cmd: Sequence[str],
    lock: str | os.PathLike[str] = DEFAULT_LOCK_NAME,
    *,
    python: str | None = None,
    scope: str = "full",
    strict: bool = False,
    use_cache: bool = True,
) -> RunCheck:
    """check() for `envlock run -- CMD`: the interpreter CMD runs (`python` on its PATH, a
    console script's shebang, else `python` given here or envlock's own), and the Report."""
    from envlock.usecases.run import run_check as _run_check

    return _run_check(cmd, lock, python=python, scope=scope, strict=strict, use_cache=use_cache)


def preflight(
    lock: str | os.PathLike[str] | Lock = DEFAULT_LOCK_NAME, **options: Unpack[CheckOptions]
) -> Report:
    """Raise EnvironmentDriftError if this environment drifted from `lock`; else return the
    Report. Takes check()'s options (scope, strict, determinism, doctor, use_cache, ignore,
    timeout).

        import envlock
        envlock.preflight("envlock.lock.toml")

    A lock that cannot be read raises envlock.LockError.
    """
    from envlock.usecases.drift import EnvironmentDriftError

    report = check(lock, **options)
    if report.failed:
        raise EnvironmentDriftError(report)
    return report


def matrix_advice(
    source: Source | None = None,
    *,
    gpu: str | None = None,
    capability: str | None = None,
    driver: str | None = None,
    os_name: str | None = None,
    python_version: str | None = None,
    check_index: bool = False,
    torch: str | None = None,
) -> MatrixAdvice:
    """Which official torch builds run on a GPU (`gpu`, a model name, or its `capability`,
    "8.9") with `driver` ("570.86") on `os_name` (linux, windows) for `python_version`
    ("3.12"), and the pip command for the newest; what is not given comes from the facts
    of `source` (this machine by default, probed without importing torch). `torch`
    ("2.6", "1.8.1", "2.7.0+cu128") judges only that release's builds (or that build).
    With `check_index`, the newest's wheel is confirmed on its index for this Python, CPU
    and glibc (PEP 691; ENVLOCK_TORCH_INDEX names a mirror); offline, a note."""
    from envlock.usecases.matrix import matrix_advice as _advice

    return _advice(
        source,
        gpu=gpu,
        capability=capability,
        driver=driver,
        os_name=os_name,
        python_version=python_version,
        check_index=check_index,
        torch=torch,
    )


def write_output(path: str | os.PathLike[str], text: str) -> None:
    """A rendered report written to `path` atomically: a regular file, or a symlink to a
    file in its own directory; OutputError (exit 3) otherwise."""
    from envlock.usecases.output import write_output as _write

    _write(path, text)
