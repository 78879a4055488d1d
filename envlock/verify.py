"""verify: a pure function of (Lock, Facts, rules) -> Findings.

The facts go through `build_lock` too, then both sides are flattened to
dotted paths (`torch.cuda`, `hardware.gpus[0].name`, `packages.numpy`) and
compared under a rule per field. Rules are data: DEFAULT_RULES, read from the
lock model's field metadata (lock/fields.py: each field says how it is compared and
why), overridden by the lock's [rules] table, overridden by `--rule PATTERN=RULE`.

Determinism digests are compared when the facts carry fresh ones; running
the suite to get them is fact collection (envlock.collect), not done here.
Nothing in this module starts a process.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import functools
import re
from dataclasses import dataclass
from typing import Any

from envlock.errors import UsageError
from envlock.facts import Facts
from envlock.findings import Finding, Severity
from envlock.lock import (
    RULE_KINDS,
    SCOPES,
    Lock,
    LockVersion,
    build_lock,
    flatten,
)
from envlock.lock.fields import lock_fields


@dataclass(frozen=True, kw_only=True, slots=True)
class Rule:
    pattern: str
    kind: str  # exact | at-least | same | warn | ignore
    severity: Severity = Severity.ERROR
    extra: Severity = Severity.WARNING  # observed now but not in the lock
    why: str = ""


_FIELDS = lock_fields()

# Per section of the model: its keys and fields with a rule of their own, then the
# section's wildcard ("torch.*"); a field without one falls back to exact.
DEFAULT_RULES: tuple[Rule, ...] = tuple(
    Rule(pattern=path, kind=str(m.rule), severity=m.severity, extra=m.extra, why=m.why)
    for path, m in _FIELDS.rules()
)


def parse_rule_override(text: str) -> Rule:
    pattern, sep, kind = text.partition("=")
    pattern, kind = pattern.strip(), kind.strip()
    if not sep or not pattern or kind not in RULE_KINDS:
        raise UsageError(
            f"--rule {text!r}: expected PATTERN=RULE with RULE one of {', '.join(RULE_KINDS)}"
        )
    return _override(pattern, kind)


def _override(pattern: str, kind: str) -> Rule:
    sev = Severity.WARNING if kind == "warn" else Severity.ERROR
    return Rule(pattern=pattern, kind=kind, severity=sev, why="rule set by the user")


def lock_rules(lock: Lock) -> list[Rule]:
    """The lock's [rules] table (its kinds were checked when the lock was read)."""
    return [_override(pattern, kind) for pattern, kind in lock.rules.items()]


_FALLBACK = Rule(pattern="*", kind="exact", why="locked field")
_INDEX = re.compile(r"\[\d+\]")


class _Rules:
    """The first matching rule for a dotted field, with each pattern compiled once.

    "gpus[0]" in a path; "gpus[*]" in a rule means any index. fnmatch would read
    brackets as a character class, so they are swapped out on both sides. Linear in the
    number of fields: a lock of 230,000 packages is matched in about a second.
    """

    def __init__(self, rules: list[Rule]) -> None:
        self.compiled = [(*_compiled(r.pattern), r) for r in rules]
        self.by_section: dict[str, list[tuple[re.Pattern[str], Rule]]] = {}

    def __call__(self, path: str) -> Rule:
        section = path.split(".", 1)[0]
        candidates = self.by_section.get(section)
        if candidates is None:  # the rules that can match in this section, in order
            candidates = [(rx, r) for rx, sec, r in self.compiled if sec in (None, section)]
            self.by_section[section] = candidates
        concrete = _angle(path)
        generic = _angle(_INDEX.sub("[*]", path)) if "[" in path else concrete
        for regex, rule in candidates:
            if regex.match(concrete) or (generic is not concrete and regex.match(generic)):
                return rule
        return _FALLBACK


@functools.lru_cache(maxsize=1024)
def _compiled(pattern: str) -> tuple[re.Pattern[str], str | None]:
    """A rule pattern's regex and literal section, translated once per process (the
    default rules are the same on every call: verify, checked_fields, every rank)."""
    return re.compile(fnmatch.translate(_angle(pattern)), re.DOTALL), _section(pattern)


def _section(pattern: str) -> str | None:
    """The first dotted part of a pattern when it is literal ("packages" in "packages.*"),
    else None (the pattern may match in any section)."""
    head, dot, _ = pattern.partition(".")
    return head if dot and not any(c in head for c in "*?[") else None


def _angle(text: str) -> str:
    return text.replace("[", "<").replace("]", ">")


def _agrees(rule: Rule, locked: Any, observed: Any) -> bool:
    if rule.kind == "at-least":
        from envlock.versions import at_least

        return at_least(str(observed), str(locked))
    return bool(locked == observed)


def verify(
    lock: Lock,
    facts: Facts,
    *,
    scope: str = "full",
    rules: list[Rule] | None = None,
    determinism_skipped: str | None = None,
) -> list[Finding]:
    """Findings for every locked field that drifted in `facts`. Pure.

    determinism_skipped: why `facts` carries no fresh digests although the lock has
    some (the suite could not run here); None when they were not asked for.
    """
    if scope not in SCOPES:
        raise UsageError(f"unknown scope {scope!r} (choose from {', '.join(SCOPES)})")
    all_rules = [*(rules or []), *lock_rules(lock), *_tool_rules(lock), *DEFAULT_RULES]
    findings: list[Finding] = []
    if lock.version.newer_minor:
        findings.append(
            Finding(
                check_id="EL-LOCK-NEWER-MINOR",
                severity=Severity.WARNING,
                message=f"lock-version {lock.version} is newer than this envlock reads "
                f"({LockVersion.current()}); fields it does not know are compared as exact",
                fix="upgrade envlock",
            )
        )
    effective = "software" if "software" in (scope, lock.scope) else "full"
    # as observed: a value no lock file may hold (a line break) is drift, not hidden
    now = build_lock(facts, scope="full", lockable=False)
    # A section equal on both sides (typed equality) has no field that can differ: it is
    # neither flattened nor matched against the rules. Unchanged is cheap.
    same = _equal_sections(lock, now)
    locked = flatten(lock, scope=effective, without=same)
    observed = flatten(now, scope=effective, without=same)
    if lock.version < LockVersion.current():
        observed = _as_written_by(lock.version, observed, locked)
    unobserved = _unobserved(facts)
    rule_for = _Rules(all_rules)
    for path in sorted(set(locked) | set(observed)):
        rule = rule_for(path)
        if rule.kind == "ignore":
            continue
        finding = _compare_field(path, rule, locked, observed, unobserved, lock)
        if finding is not None:
            findings.append(finding)
    findings = _for_the_shell(_conda_first(_fold_torch(findings), facts), facts)
    findings += _determinism(lock, facts, scope=scope, skipped=determinism_skipped)
    from envlock.lock.closure import unrestorable_findings

    findings += unrestorable_findings(lock.sources, lock.packages)
    return findings


def _tool_rules(lock: Lock) -> list[Rule]:
    """envlock's own requirements in a lock written before [tools] (1.0 wrote nvidia-ml-py
    in [packages]): the tool's then, never drift. Later locks hold in [packages] only
    those the job's own distributions require (lock/build.py): checked like the rest."""
    if lock.version >= _FULL_CLOSURE:
        return []
    from envlock.lock import TOOL_PACKAGES

    why = "envlock's own requirement"
    return [Rule(pattern=f"packages.{n}", kind="ignore", why=why) for n in sorted(TOOL_PACKAGES)]


def _equal_sections(lock: Lock, now: Lock) -> frozenset[str]:
    """The keys of the compared sections whose locked and observed values are equal. None
    for a lock with keys this model does not know (they are compared as the file has them)."""
    if lock.unknown:
        return frozenset()
    return frozenset(
        sec.path
        for sec in _FIELDS.sections()
        if sec.meta.compared and getattr(lock, sec.attr) == getattr(now, sec.attr)
    )


# The first lock-version that records the full closure (1.0: an allow-list of packages).
_FULL_CLOSURE = LockVersion(1, 1)


def _as_written_by(
    version: LockVersion, observed: dict[str, Any], locked: dict[str, Any]
) -> dict[str, Any]:
    """The observed fields a writer of lock-version `version` would have recorded: the
    fields the model says are newer (their `since`) were never locked, nor, before the
    full closure, packages outside 1.0's allow-list: they are not drift."""
    from envlock.lock.closure import in_v1_0

    newer = _FIELDS.newer_than(version)
    allow_list = version < _FULL_CLOSURE

    def kept(path: str) -> bool:
        if path in locked:
            return True
        if newer and path.startswith(newer):
            return False
        if allow_list and path.startswith("packages."):
            return in_v1_0(path.removeprefix("packages."))
        return True

    return {p: v for p, v in observed.items() if kept(p)}


def _compare_field(
    path: str,
    rule: Rule,
    locked: dict[str, Any],
    observed: dict[str, Any],
    unobserved: dict[str, str],
    lock: Lock,
) -> Finding | None:
    lv, ov = locked.get(path), observed.get(path)
    common: dict[str, Any] = {"field": path, "locked": lv, "why": rule.why}
    if path in locked and path in observed:
        if _agrees(rule, lv, ov):
            return None
        at_least = " (at least the locked version is required)" if rule.kind == "at-least" else ""
        return Finding(
            check_id="EL-VERIFY-DRIFT",
            severity=rule.severity,
            observed=ov,
            message=f"{path}: locked {_show(lv)}, observed {_show(ov)}{at_least}",
            fix=_fix_for(path, lv, lock),
            **common,
        )
    if path in locked:
        reason = next((r for p, r in unobserved.items() if path.startswith(p)), None)
        if reason is not None:
            return Finding(
                check_id="EL-VERIFY-UNOBSERVED",
                severity=rule.severity,
                message=f"{path}: could not be observed: {reason}",
                fix="fix the probe problem above, or verify with --scope software "
                "on machines without the locked hardware",
                **common,
            )
        return Finding(
            check_id="EL-VERIFY-MISSING",
            severity=rule.severity,
            message=f"{path}: locked {_show(lv)}, not present now",
            fix=_fix_for(path, lv, lock),
            **common,
        )
    return Finding(
        check_id="EL-VERIFY-NOT-LOCKED",
        severity=rule.extra,
        field=path,
        locked=None,
        observed=ov,
        # a package the lock never held did not "change version": it is extra
        why=_NOT_LOCKED_PACKAGE if path.startswith("packages.") else rule.why,
        message=f"{path}: not set in the lock, observed {_show(ov)}",
        fix="regenerate the lock with `envlock lock` if this change is intended",
    )


def _determinism(lock: Lock, facts: Facts, *, scope: str, skipped: str | None) -> list[Finding]:
    if lock.determinism is None:
        return []
    if facts.determinism is not None:
        from envlock.determinism.compare import compare, run_to_run_findings

        fresh = facts.determinism
        return [*compare(lock.determinism, fresh), *run_to_run_findings(fresh)]
    device = lock.determinism.device
    if skipped is not None:
        # CI without GPUs verifying the software stack is told, not failed.
        cuda = device == "cuda"
        return [
            Finding(
                check_id="EL-VERIFY-DETERMINISM-SKIPPED",
                severity=Severity.INFO if cuda and scope == "software" else Severity.ERROR,
                field="determinism",
                locked=f"{device} digests",
                observed=None,
                why=f"the lock holds {device} determinism digests",
                message=f"determinism digests were locked on {device.upper()} and cannot be "
                f"recomputed here: {skipped}",
                fix="verify on a GPU machine, or pass --no-determinism"
                if cuda
                else "fix the problem above, or pass --no-determinism",
            )
        ]
    return [
        Finding(
            check_id="EL-VERIFY-DETERMINISM-SKIPPED",
            severity=Severity.WARNING,
            field="determinism",
            locked="digests",
            observed=None,
            why="the lock holds determinism digests",
            message="determinism digests are locked but were not recomputed",
            fix="run verify without --no-determinism",
        )
    ]


def checked_fields(lock: Lock, scope: str = "full") -> list[str]:
    """The locked fields verify compares under `scope` (for reports that list passes)."""
    rules = [*lock_rules(lock), *DEFAULT_RULES]
    rule_for = _Rules(rules)
    return [p for p in flatten(lock, scope=scope) if rule_for(p).kind != "ignore"]


def _unobserved(facts: Facts) -> dict[str, str]:
    """Lock sections (and live torch fields) whose source could not be observed, with
    the reason: the sections' `unavailable` in the model, then the live torch child."""
    out = {
        prefix: why for prefix, unavailable in _FIELDS.unavailable() if (why := unavailable(facts))
    }
    live = facts.torch.live
    if live is None or live.unavailable:
        reason = live.unavailable if live else "the live torch probe was not run (--no-torch-live)"
        for path in _FIELDS.paths(lambda m: m.live):
            out[path] = reason or "torch live probe failed"
    return out


def _show(value: Any) -> str:
    if isinstance(value, list):
        return "[" + " ".join(map(str, value)) + "]"
    return repr(value) if isinstance(value, str) else str(value)


def _torch_install(lock: Lock) -> str | None:
    """The pip line that installs the locked torch build: the distribution's version from
    the index the lock names (1.1), or from the variant's index its local tag names (1.0:
    "2.14.1+cu130" -> download.pytorch.org/whl/cu130). None when the lock says neither."""
    from envlock.lock.closure import DEFAULT_INDEX, torch_index

    version = lock.packages.get("torch")
    index = lock.torch.index if lock.torch else None
    if version is None or index is None:
        tagged = lock.torch.version if lock.torch else None
        if tagged is None or "+" not in tagged:
            return None
        version, index = tagged.split("+", 1)[0], torch_index(tagged)
    line = f"pip install 'torch=={version}'"
    return line if str(index).rstrip("/") == DEFAULT_INDEX else f"{line} --index-url {index}"


_FIX = "restore the locked value, or regenerate the lock if the change is intended"


def _fix_for(path: str, locked: Any, lock: Lock) -> str:
    """The field's fix from the model (its own, else its section's), filled in."""
    own, section, key = _FIELDS.at(path)
    if own.installs_torch:
        line = _torch_install(lock)
        if line is not None:
            return line
    template = own.fix or section.fix
    return template.format(key=key, locked=locked) if template else _FIX


_NOT_LOCKED_PACKAGE = "not in the lock: installed here, never locked"


def _moves_with_torch(path: str) -> bool:
    """A field another torch build changes with it: torch's own, the torch package, and
    the CUDA wheels (and triton) its variant brings."""
    from envlock.lock.closure import follows_variant

    if path.startswith("torch.") or path == "packages.torch":
        return True
    return path.startswith("packages.") and follows_variant(path.removeprefix("packages."))


def _fold_torch(findings: list[Finding]) -> list[Finding]:
    """One torch change is one finding: torch.version's, carrying what changed with it
    (its variant, index, CUDA, the CUDA wheels) in its evidence, at the worst severity."""
    head = next((f for f in findings if f.field == "torch.version"), None)
    if head is None or head.check_id != "EL-VERIFY-DRIFT":
        return findings
    folded = _moved_with(head, findings)
    if not folded:
        return findings
    changed = [f"{f.field}: {_plain(f.locked)} -> {_plain(f.observed)}" for f in folded]
    worst = max(f.severity for f in (head, *folded))
    merged = dataclasses.replace(
        head,
        severity=worst,
        fix=_fix_with_uninstalls(head.fix, folded),
        evidence={**head.evidence, "changed with torch": changed},
    )
    gone = {id(f) for f in folded}
    return [merged if f is head else f for f in findings if id(f) not in gone]


def _conda_first(findings: list[Finding], facts: Facts) -> list[Finding]:
    """Where conda holds torch here, the pip line that puts the locked torch back removes
    conda's torch family first, as the doctor's fixes do: pip's torch beside conda's
    pytorch is two installs (EL-TORCH-TWO-INSTALLS)."""
    if "pytorch" not in facts.toolchain.conda_packages:
        return findings  # no conda torch: the checks' helpers are not even loaded
    from envlock.checks.hints import after_conda_removal, conda_held

    conda = conda_held(facts.toolchain.conda_packages)
    return [
        dataclasses.replace(f, fix=after_conda_removal(conda, f.fix))
        if f.fix and f.fix.startswith("pip install ") and _installs_torch(f.field)
        else f
        for f in findings
    ]


def _for_the_shell(findings: list[Finding], facts: Facts) -> list[Finding]:
    """On Windows, every `a && b` of a fix as one command a line (checks/shells.py: Windows
    PowerShell 5.1 rejects `&&`, cmd has no `;`), as the doctor's fixes are."""
    os_facts = facts.system.os
    if os_facts is None or os_facts.id != "windows":
        return findings
    from envlock.checks.shells import for_windows

    return [for_windows(f) for f in findings]


def _installs_torch(path: str | None) -> bool:
    """The field's fix is the pip line that installs the locked torch (its FieldMeta)."""
    return path is not None and _FIELDS.at(path)[0].installs_torch


def _fix_with_uninstalls(fix: str | None, folded: list[Finding]) -> str | None:
    """pip installs the locked torch and the wheels it pins, but removes none the other
    build brought: those the lock never held are uninstalled too, or they stay as drift."""
    extra = sorted(
        (f.field or "").removeprefix("packages.")
        for f in folded
        if f.locked is None and (f.field or "").startswith("packages.")
    )
    if fix and extra:
        return f"{fix}; then pip uninstall -y {' '.join(extra)} (the other build's, never locked)"
    return fix


def _moved_with(head: Finding, findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f is not head and _moves_with_torch(f.field or "")]


def _plain(value: Any) -> str:
    """A value in a "locked -> observed" line: "(none)" where a side has none."""
    if value is None:
        return "(none)"
    return " ".join(map(str, value)) if isinstance(value, list) else str(value)
