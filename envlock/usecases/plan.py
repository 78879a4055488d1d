"""`envlock doctor --plan FILE` and `envlock matrix --plan FILE`: a Dockerfile, compose
file, manifest, requirements file or lock, held against a host's driver and GPUs before
anything is built (envlock/plan/ reads the files; this module reads them from disk,
bounded, and runs the checks).

Files are read here only: a plan file, and what it names beside it (a `-r` file, a compose
service's Dockerfile), each a regular file of at most MAX_PLAN_BYTES inside the plan
file's directory. A fix's replacement is applied to the file's text and the plan re-read
and re-checked: a replacement is offered only when its finding is gone and no new error
appears.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from envlock.errors import FactsError
from envlock.usecases.planbase import BaseProber

if TYPE_CHECKING:
    from envlock.facts import Facts
    from envlock.findings import Finding, Report
    from envlock.matrix import Matrix
    from envlock.plan.judge import Located
    from envlock.plan.model import Plan, ReadOptions, Replacement, Span
    from envlock.plan.registry import Kind
    from envlock.plan.tofacts import PlanFacts

MAX_PLAN_BYTES = 4 * 1024 * 1024  # the largest real Dockerfiles and lock files are < 1 MiB
MAX_FILES = 64  # files read for one plan (-r includes, compose build contexts)


@dataclass
class _Files:
    """Every file read for the plans, by the name spans carry; patched for re-checks."""

    root: str  # the directory plan files may name files in
    texts: dict[str, str] = field(default_factory=dict)
    patched: dict[str, str] = field(default_factory=dict)

    def read_beside(self, from_file: str, name: str) -> str | None:
        path = os.path.normpath(os.path.join(os.path.dirname(from_file), name))
        if path in self.patched:
            return self.patched[path]
        if path in self.texts:
            return self.texts[path]
        if len(self.texts) >= MAX_FILES or not _inside(path, self.root):
            return None
        try:
            text = _read_text(path)
        except FactsError:
            return None
        self.texts[path] = text
        return text


def _inside(path: str, root: str) -> bool:
    real, top = os.path.realpath(path), os.path.realpath(root)
    return real == top or real.startswith(top.rstrip(os.sep) + os.sep)


def _read_text(path: str) -> str:
    from envlock.pasted import text_of
    from envlock.safeio import UnreadableFile, read_bounded

    try:
        data = read_bounded(path, MAX_PLAN_BYTES)
    except UnreadableFile as e:
        raise FactsError(f"plan file {path}: {e}") from None
    return text_of(data, f"plan file {path}")


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanRun:
    """One plan file read: its kind and its plans."""

    path: str
    kind: str
    plans: tuple[Plan, ...]


def read_plans(
    path: str, *, build_args: Mapping[str, str], target: str | None, files: _Files | None = None
) -> tuple[PlanRun, _Files]:
    """The plans of one file (PlanError / FactsError: exit 3, one line)."""
    from envlock.plan.model import ReadOptions
    from envlock.plan.registry import detect

    path = os.path.normpath(path)
    files = files or _Files(root=os.path.dirname(os.path.abspath(path)))
    text = files.patched.get(path) or files.texts.get(path)
    if text is None:
        text = _read_text(path)
        files.texts[path] = text
    kind = detect(os.path.basename(path), text)
    options = ReadOptions(build_args=dict(build_args), target=target, read_beside=files.read_beside)
    plans = _read_with(kind, text, path, options)
    return PlanRun(path=path, kind=kind.name, plans=tuple(plans)), files


def _read_with(kind: Kind, text: str, path: str, options: ReadOptions) -> list[Plan]:
    from envlock.plan.model import PlanError
    from envlock.plan.registry import module_of

    try:
        plans: list[Plan] = module_of(kind).read(text, path, options)
    except RecursionError:
        raise PlanError(f"{path}: nested too deeply to read") from None
    if not plans:
        raise PlanError(f"{path}: nothing to check (no service, container or stage)")
    return plans


def host_facts(facts_file: str | None) -> Facts:
    """The host a plan is held against: a facts file, else this machine (no torch child)."""
    from envlock.collect import Source, collect_facts, probe_this_host

    if facts_file is not None:
        return collect_facts(Source(facts_file=facts_file))
    return probe_this_host(torch_live=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanJudgement:
    """A plan's findings on a host, as the report shows them."""

    findings: tuple[Finding, ...]
    not_checked: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class _Context:
    host: Facts | None
    matrix: Matrix
    ignore: frozenset[str]
    build_args: Mapping[str, str]
    target: str | None
    probe_base: bool = True
    prober: BaseProber = field(default_factory=BaseProber)


def judge_plans(
    paths: Iterable[str],
    *,
    host: Facts | None,
    build_args: Mapping[str, str],
    target: str | None,
    ignore: frozenset[str],
    probe_base: bool = True,
) -> PlanJudgement:
    """Every plan of every file, held against `host`, each fix re-checked."""
    from envlock.matrix import load_matrix
    from envlock.plan.judge import plan_finding, with_replacements

    ctx = _Context(
        host=host,
        matrix=load_matrix(),
        ignore=ignore,
        build_args=build_args,
        target=target,
        probe_base=probe_base,
    )
    findings: list[Finding] = []
    not_checked: list[str] = []
    for path in paths:
        run, files = read_plans(path, build_args=build_args, target=target)
        several = len(run.plans) > 1
        for plan in run.plans:
            pf, located = _judge_one(plan, ctx)

            recheck = functools.partial(_recheck, plan, run, files, ctx)
            for item in with_replacements(pf, located, host, ctx.matrix, recheck):
                item = _with_conda_note(item, pf, ctx)
                findings.append(plan_finding(item, plan.name if several else None))
            not_checked.extend(_not_checked(pf, several))
    not_checked.extend(ctx.prober.notes)
    return PlanJudgement(findings=tuple(findings), not_checked=tuple(dict.fromkeys(not_checked)))


def _with_conda_note(item: Located, pf: PlanFacts, ctx: _Context) -> Located:
    """A conda torch line's build finding without a replacement says why there is none
    (no pytorch-cuda pin to move, or no build of the pytorch channel runs here)."""
    from envlock.plan.fixes import conda_note
    from envlock.plan.judge import PLAN_CHECKS

    if item.replacement is not None or PLAN_CHECKS.get(item.finding.check_id) != ("torch",):
        return item
    note = conda_note(pf, ctx.host, ctx.matrix)
    if note is None:
        return item
    fix = item.fix or item.finding.fix
    return dataclasses.replace(item, fix=f"{note}; {fix}" if fix else note)


def _judge_one(plan: Plan, ctx: _Context) -> tuple[PlanFacts, list[Located]]:
    from envlock import __version__
    from envlock.checks import run_checks
    from envlock.plan.judge import locate
    from envlock.plan.tofacts import plan_facts

    pf = plan_facts(
        plan,
        ctx.matrix,
        collected_at=_now(),
        version=__version__,
        base_facts=_base_facts(plan, ctx),
    )
    found = run_checks(pf.facts, host=ctx.host, ignore=ctx.ignore, matrix=ctx.matrix)
    return pf, locate(pf, found)


def _base_facts(plan: Plan, ctx: _Context) -> Facts | None:
    """The facts of a base image whose tag states nothing, probed as --image probes it
    when the local engine holds it (planbase.py); None without probing (--no-probe-base)."""
    base = plan.base
    if not ctx.probe_base or base is None or base.known_from is not None:
        return None
    return ctx.prober.facts(base.reference.value)


def _recheck(
    plan: Plan, run: PlanRun, files: _Files, ctx: _Context, check_id: str, replacement: Replacement
) -> bool:
    """Whether the plan with `replacement` applied has no `check_id` finding and no error
    the plan did not have."""
    from envlock.errors import EnvlockError
    from envlock.findings import Severity

    span = replacement.span
    original = files.texts.get(span.file)
    if original is None:
        return False
    before = {item.finding.check_id for item in _judge_one(plan, ctx)[1]}
    files.patched = {span.file: _apply(original, replacement)}
    try:
        again, _ = read_plans(run.path, build_args=ctx.build_args, target=ctx.target, files=files)
        same = next((p for p in again.plans if p.name == plan.name), None)
        if same is None:
            return False
        _, after = _judge_one(same, ctx)
    except EnvlockError:
        return False
    finally:
        files.patched = {}
    if any(item.finding.check_id == check_id for item in after):
        return False
    return not any(
        item.finding.severity >= Severity.ERROR and item.finding.check_id not in before
        for item in after
    )


def _apply(text: str, replacement: Replacement) -> str:
    lines = text.split("\n")
    span = replacement.span
    return "\n".join([*lines[: span.line - 1], replacement.text, *lines[span.end_line :]])


def _not_checked(pf: PlanFacts, several: bool) -> list[str]:
    label = f"[{pf.plan.name}] " if several else ""
    out = []
    if pf.torch_not_stated:
        out.append(f"{label}torch: not stated ({pf.torch_not_stated})")
    elif pf.torch is not None and pf.torch.variant is None:
        out.append(f"{label}torch's CUDA build: not stated ({pf.torch.variant_from})")
    if pf.plan.gpu_request is None and pf.plan.kind == "dockerfile":
        out.append(f"{label}GPU request and /dev/shm: a Dockerfile does not say how it is run")
    out.extend(f"{label}{note}" for note in pf.plan.notes)
    return out


def _host_gaps(host: Facts) -> list[str]:
    """What the plan could not be held against: a host whose facts show no driver or GPU."""
    driver = host.driver
    if driver.version or driver.cuda_version or driver.gpus:
        return []
    why = driver.unavailable or "none seen"
    return [
        f"host: no NVIDIA driver or GPU in its facts ({why}): the plan's CUDA, kernels and "
        "cuDNN not judged (give --facts of a GPU machine, or --facts-dir of a fleet)"
    ]


def _now() -> str:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def doctor_plan(
    paths: Iterable[str],
    *,
    facts_file: str | None,
    build_args: Mapping[str, str],
    target: str | None,
    ignore: Iterable[str],
    strict: bool,
    probe_base: bool = True,
) -> Report:
    """`envlock doctor --plan`: the plans' findings on this host (or `facts_file`'s)."""
    from envlock.catalog import DOCTOR, validate_ignore
    from envlock.findings import DoctorDetails, Report
    from envlock.plan.judge import PLAN_CHECKS

    skip = validate_ignore(ignore, DOCTOR)
    paths = list(paths)
    host = host_facts(facts_file)
    judged = judge_plans(
        paths, host=host, build_args=build_args, target=target, ignore=skip, probe_base=probe_base
    )
    not_checked = (*_host_gaps(host), *judged.not_checked)
    return Report(
        command="doctor",
        target="plan:" + ", ".join(paths) + f" on {host.meta.target}",
        findings=list(judged.findings),
        strict=strict,
        details=DoctorDetails(
            checks=len(set(PLAN_CHECKS) - skip),
            ignored=tuple(sorted(skip)),
            not_checked=not_checked,
        ),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanLine:
    """One instruction of a plan and what would run on the host instead, as its text."""

    plan: str  # the plan's name (service, container, stage, file)
    where: str  # file:line or file:first-last
    instruction: str  # as written
    replacement: str | None  # None: nothing to change, or no build runs here
    why: str
    # runs here: with its replacement, or as written (already the build the matrix picks)
    settled: bool

    def to_dict(self) -> dict[str, object]:
        return {
            "plan": self.plan,
            "where": self.where,
            "instruction": self.instruction,
            "replacement": self.replacement,
            "why": self.why,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanAdvice:
    """`envlock matrix --plan`: each plan's torch (and CUDA base image) for this host."""

    host: str
    lines: tuple[PlanLine, ...]
    notes: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "host": self.host,
            "lines": [line.to_dict() for line in self.lines],
            "notes": list(self.notes),
        }


def plan_advice(
    paths: Iterable[str],
    *,
    facts_file: str | None,
    build_args: Mapping[str, str],
    target: str | None,
    probe_base: bool = True,
) -> PlanAdvice:
    """What would run here instead of each plan's torch and base image, as replacement
    lines the plan is re-checked with."""
    from envlock.matrix import load_matrix

    host = host_facts(facts_file)
    ctx = _Context(
        host=host,
        matrix=load_matrix(),
        ignore=frozenset(),
        build_args=build_args,
        target=target,
        probe_base=probe_base,
    )
    lines: list[PlanLine] = []
    notes: list[str] = []
    for path in paths:
        run, files = read_plans(path, build_args=build_args, target=target)
        for plan in run.plans:
            pf, _ = _judge_one(plan, ctx)
            recheck = functools.partial(_recheck, plan, run, files, ctx)
            lines.extend(_advice_lines(pf, ctx, recheck))
            notes.extend(_not_checked(pf, len(run.plans) > 1))
    notes.extend(ctx.prober.notes)
    return PlanAdvice(host=host.meta.target, lines=tuple(lines), notes=tuple(dict.fromkeys(notes)))


def _advice_lines(pf: PlanFacts, ctx: _Context, recheck: functools.partial[bool]) -> list[PlanLine]:
    from envlock.plan.fixes import base_replacement, torch_replacement

    out = []
    torch = pf.torch
    if torch is not None:
        new = torch_replacement(pf, ctx.host, ctx.matrix)
        ok = new is not None and recheck("", new)
        planned = f"torch {torch.version}+{torch.variant or '?'}"
        why, as_written = _torch_why(pf, ctx, new, ok)
        replacement = new if ok else None
        out.append(_line(pf, torch.span, replacement, f"{planned}{why}", as_written))
    base = pf.plan.base
    if base is not None and base.cuda is not None:
        new = base_replacement(pf, ctx.host, ctx.matrix)
        if new is not None and new.text != base.reference.span.text and recheck("", new):
            why = (
                f"the CUDA {base.cuda.value} image needs a newer driver than "
                f"{ctx.host.driver.version if ctx.host else '?'}: the newest CUDA image it "
                "fully supports"
            )
            out.append(_line(pf, base.reference.span, new, why, False))
    return out


def _torch_why(pf: PlanFacts, ctx: _Context, new: Replacement | None, ok: bool) -> tuple[str, bool]:
    """What the torch line's replacement does, or why there is none; and whether the line
    runs here as written."""
    from envlock.plan.fixes import conda_note, planned_build

    build = planned_build(pf, ctx.host, ctx.matrix)
    note = conda_note(pf, ctx.host, ctx.matrix) if new is None else None
    if build is not None and ok:
        return f" -> torch {build.version}+{build.variant.name}", False
    if note is not None:
        return f": {note}", False
    if build is not None and new is None:
        return ": already the build the matrix picks here", True
    return ": no official build runs here that the matrix re-checks", False


def _line(
    pf: PlanFacts, span: Span, new: Replacement | None, why: str, as_written: bool
) -> PlanLine:
    return PlanLine(
        plan=pf.plan.name,
        where=span.where,
        instruction=span.text,
        replacement=new.text if new is not None else None,
        why=why,
        settled=new is not None or as_written,
    )
