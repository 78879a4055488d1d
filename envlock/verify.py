"""verify: compare a lock with the lock the current facts would produce, field by field.

Both sides go through `build_lock`, then are flattened to dotted paths
(`torch.cuda`, `hardware.gpus[0].name`, `packages.numpy`) and compared under
a rule per field. Rules are data: DEFAULT_RULES, overridden by a `[rules]`
table in the lock, overridden by `--rule PATTERN=RULE` on the command line.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from typing import Any

from envlock.errors import LockError, UsageError
from envlock.facts import Facts
from envlock.findings import Finding, Severity
from envlock.lockfile import (
    HARDWARE_SECTIONS,
    LOCK_VERSION_MAJOR,
    LOCK_VERSION_MINOR,
    SCOPES,
    build_lock,
    lock_version,
)

RULE_KINDS = ("exact", "at-least", "same", "warn", "ignore")


@dataclass(frozen=True, kw_only=True, slots=True)
class Rule:
    pattern: str
    kind: str  # exact | at-least | same | warn | ignore
    severity: Severity = Severity.ERROR
    extra: Severity = Severity.WARNING  # observed now but not in the lock
    why: str = ""


DEFAULT_RULES: tuple[Rule, ...] = (
    Rule(pattern="envlock.*", kind="ignore"),
    Rule(pattern="meta.*", kind="ignore"),
    Rule(
        pattern="system.python",
        kind="exact",
        why="wheels (torch, numpy, extensions) are built per Python minor version",
    ),
    Rule(pattern="system.python-implementation", kind="exact", why="a different interpreter"),
    Rule(pattern="system.arch", kind="exact", why="binary wheels are per CPU architecture"),
    Rule(
        pattern="system.glibc",
        kind="at-least",
        severity=Severity.WARNING,
        why="manylinux wheels need a glibc at least as new as the one they were locked on",
    ),
    Rule(
        pattern="system.os",
        kind="same",
        severity=Severity.WARNING,
        why="another OS release can ship other system libraries",
    ),
    Rule(
        pattern="driver.version",
        kind="at-least",
        why="an older driver may not run the locked CUDA; a newer one is fine",
    ),
    Rule(
        pattern="driver.cuda-version",
        kind="at-least",
        why="the driver must support the CUDA version torch was built with",
    ),
    Rule(
        pattern="hardware.gpu-count",
        kind="same",
        extra=Severity.INFO,
        why="jobs are tuned for a GPU count (world size, batch size, device maps)",
    ),
    Rule(
        pattern="hardware.gpus[*].compute-capability",
        kind="same",
        extra=Severity.INFO,
        why="another architecture runs other kernels: numerics and kernel coverage change",
    ),
    Rule(
        pattern="hardware.gpus[*].name",
        kind="same",
        extra=Severity.INFO,
        why="another GPU model: memory, speed and numerics differ",
    ),
    Rule(
        pattern="hardware.gpus[*].memory-mib",
        kind="same",
        severity=Severity.WARNING,
        extra=Severity.INFO,
        why="batch sizes tuned for this memory may not fit",
    ),
    Rule(pattern="hardware.gpus[*].index", kind="same", extra=Severity.INFO, why="GPU order"),
    Rule(
        pattern="torch.cudnn",
        kind="exact",
        extra=Severity.INFO,
        why="cuDNN picks the conv/attention kernels: numerics and speed change",
    ),
    Rule(
        pattern="torch.nccl",
        kind="exact",
        extra=Severity.INFO,
        why="mismatched NCCL across ranks can hang or corrupt collectives",
    ),
    Rule(
        pattern="torch.arch-flags",
        kind="exact",
        extra=Severity.INFO,
        why="the GPU architectures torch ships kernels for",
    ),
    Rule(
        pattern="torch.*",
        kind="exact",
        extra=Severity.ERROR,
        why="another torch build: other kernels, defaults and bugs",
    ),
    Rule(
        pattern="cuda.toolkit",
        kind="exact",
        severity=Severity.WARNING,
        extra=Severity.INFO,
        why="extensions built with nvcc must match torch's CUDA major",
    ),
    Rule(
        pattern="packages.*",
        kind="exact",
        extra=Severity.WARNING,
        why="a locked package changed version",
    ),
    Rule(
        pattern="env.OMP_NUM_THREADS",
        kind="exact",
        severity=Severity.WARNING,
        extra=Severity.INFO,
        why="thread count (torchrun sets it per rank)",
    ),
    Rule(
        pattern="env.*",
        kind="exact",
        extra=Severity.ERROR,
        why="this variable changes which libraries load or how kernels compute",
    ),
    Rule(pattern="image.reference", kind="ignore"),
    Rule(
        pattern="image.*",
        kind="exact",
        why="the image content changed although its name may not have",
    ),
)

# Torch fields that only the live child observes; missing when it did not run.
_LIVE_TORCH_FIELDS = ("torch.cudnn", "torch.nccl", "torch.arch-flags")


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


def lock_rules(lock: dict[str, Any]) -> list[Rule]:
    table = lock.get("rules", {})
    out = []
    for pattern, kind in table.items():
        if kind not in RULE_KINDS:
            raise LockError(
                f"in 'rules.{pattern}': unknown rule {kind!r} (one of {', '.join(RULE_KINDS)})"
            )
        out.append(_override(pattern, kind))
    return out


def flatten(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in table.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            out.update(flatten(value, path))
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for i, item in enumerate(value):
                out.update(flatten(item, f"{path}[{i}]"))
        else:
            out[path] = value
    return out


def _rule_for(path: str, rules: list[Rule]) -> Rule:
    # "gpus[0]" in a path; "gpus[*]" in a rule means any index. fnmatch would read
    # brackets as a character class, so they are swapped out on both sides.
    def plain(text: str) -> str:
        return text.replace("[", "<").replace("]", ">")

    concrete = plain(path)
    generic = plain(re.sub(r"\[\d+\]", "[*]", path))
    for rule in rules:
        pattern = plain(rule.pattern)
        if fnmatch.fnmatchcase(concrete, pattern) or fnmatch.fnmatchcase(generic, pattern):
            return rule
    return Rule(pattern="*", kind="exact", why="locked field")


def _version_tuple(value: Any) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", str(value)))


def _agrees(rule: Rule, locked: Any, observed: Any) -> bool:
    if rule.kind == "at-least":
        return _version_tuple(observed) >= _version_tuple(locked)
    return bool(locked == observed)


def verify(
    lock: dict[str, Any],
    facts: Facts,
    *,
    scope: str = "full",
    rules: list[Rule] | None = None,
) -> list[Finding]:
    """Findings for every locked field that drifted in `facts`. Pure."""
    if scope not in SCOPES:
        raise UsageError(f"unknown scope {scope!r} (choose from {', '.join(SCOPES)})")
    all_rules = [*(rules or []), *lock_rules(lock), *DEFAULT_RULES]
    findings: list[Finding] = []

    major, minor = lock_version(lock)
    if (major, minor) > (LOCK_VERSION_MAJOR, LOCK_VERSION_MINOR):
        findings.append(
            Finding(
                check_id="EL-LOCK-NEWER-MINOR",
                severity=Severity.INFO,
                message=f"lock-version {major}.{minor} is newer than this envlock reads "
                f"({LOCK_VERSION_MAJOR}.{LOCK_VERSION_MINOR}); fields it does not know are compared as exact",
                fix="upgrade envlock",
            )
        )

    lock_scope = lock.get("envlock", {}).get("scope", "full")
    effective = "software" if "software" in (scope, lock_scope) else "full"
    observed_lock = build_lock(facts, scope="full")
    skip_sections: tuple[str, ...] = ("determinism", "rules")
    if effective == "software":
        skip_sections += HARDWARE_SECTIONS

    locked = flatten({k: v for k, v in lock.items() if k not in skip_sections})
    observed = flatten({k: v for k, v in observed_lock.items() if k not in skip_sections})
    unobserved = _unobserved(facts)

    for path in sorted(set(locked) | set(observed)):
        rule = _rule_for(path, all_rules)
        if rule.kind == "ignore":
            continue
        in_lock, in_obs = path in locked, path in observed
        lv, ov = locked.get(path), observed.get(path)
        if in_lock and in_obs:
            if _agrees(rule, lv, ov):
                continue
            findings.append(
                Finding(
                    check_id="EL-VERIFY-DRIFT",
                    severity=rule.severity,
                    field=path,
                    locked=lv,
                    observed=ov,
                    why=rule.why,
                    message=f"{path}: locked {_show(lv)}, observed {_show(ov)}"
                    + (
                        " (at least the locked version is required)"
                        if rule.kind == "at-least"
                        else ""
                    ),
                    fix=_fix_for(path, lv),
                )
            )
        elif in_lock:
            reason = next((r for p, r in unobserved.items() if path.startswith(p)), None)
            if reason is not None:
                findings.append(
                    Finding(
                        check_id="EL-VERIFY-UNOBSERVED",
                        severity=rule.severity,
                        field=path,
                        locked=lv,
                        observed=None,
                        why=rule.why,
                        message=f"{path}: could not be observed: {reason}",
                        fix="fix the probe problem above, or verify with --scope software "
                        "on machines without the locked hardware",
                    )
                )
            else:
                findings.append(
                    Finding(
                        check_id="EL-VERIFY-MISSING",
                        severity=rule.severity,
                        field=path,
                        locked=lv,
                        observed=None,
                        why=rule.why,
                        message=f"{path}: locked {_show(lv)}, not present now",
                        fix=_fix_for(path, lv),
                    )
                )
        else:
            findings.append(
                Finding(
                    check_id="EL-VERIFY-NOT-LOCKED",
                    severity=rule.extra,
                    field=path,
                    locked=None,
                    observed=ov,
                    why=rule.why,
                    message=f"{path}: not set in the lock, observed {_show(ov)}",
                    fix="regenerate the lock with `envlock lock` if this change is intended",
                )
            )

    if "determinism" in lock and facts.determinism is not None:
        from envlock.determinism import compare, from_lock_table, run_to_run_findings

        findings.extend(compare(from_lock_table(lock["determinism"]), facts.determinism))
        findings.extend(run_to_run_findings(facts.determinism))
    elif "determinism" in lock:
        findings.append(
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
        )
    return findings


def recompute_determinism(
    lock: dict[str, Any], facts: Facts, *, scope: str, python: str | None = None
) -> tuple[Facts, list[Finding]]:
    """Rerun the determinism suite the lock holds digests for, with its seed and device.

    A GPU lock checked on a machine that cannot run CUDA is a finding, not a crash:
    under --scope software it is information (CI without GPUs), else an error.
    """
    if "determinism" not in lock:
        return facts, []
    from envlock.determinism import from_lock_table, run_suite
    from envlock.errors import DeterminismError

    locked = from_lock_table(lock["determinism"])
    try:
        return facts.replace(
            determinism=run_suite(device=locked.device, seed=locked.seed, python=python)
        ), []
    except DeterminismError as exc:
        if locked.device != "cuda":
            raise
        sev = Severity.INFO if scope == "software" else Severity.ERROR
        return facts, [
            Finding(
                check_id="EL-VERIFY-DETERMINISM-SKIPPED",
                severity=sev,
                field="determinism",
                locked="cuda digests",
                observed=None,
                why="the lock holds CUDA determinism digests",
                message=f"determinism digests were locked on CUDA and cannot be recomputed here: {exc}",
                fix="verify on a GPU machine, or pass --no-determinism",
            )
        ]


def verify_recomputing(
    lock: dict[str, Any],
    facts: Facts,
    *,
    scope: str = "full",
    rules: list[Rule] | None = None,
    determinism: bool = True,
    python: str | None = None,
) -> tuple[Facts, list[Finding]]:
    """verify(), after recomputing the lock's determinism digests when asked (and possible)."""
    skipped: list[Finding] = []
    if determinism and facts.determinism is None:
        facts, skipped = recompute_determinism(lock, facts, scope=scope, python=python)
    findings = verify(lock, facts, scope=scope, rules=rules)
    if skipped:  # already says why the digests were not recomputed
        findings = [f for f in findings if f.check_id != "EL-VERIFY-DETERMINISM-SKIPPED"]
    return facts, [*skipped, *findings]


def checked_fields(lock: dict[str, Any], scope: str = "full") -> list[str]:
    """The locked fields verify compares under `scope` (for reports that list passes)."""
    skip = ("determinism", "rules", *(HARDWARE_SECTIONS if scope == "software" else ()))
    rules = [*lock_rules(lock), *DEFAULT_RULES]
    return [
        p
        for p in flatten({k: v for k, v in lock.items() if k not in skip})
        if _rule_for(p, rules).kind != "ignore"
    ]


def _unobserved(facts: Facts) -> dict[str, str]:
    """Lock sections whose source could not be observed, with the reason."""
    out: dict[str, str] = {}
    if facts.driver.unavailable and facts.driver.version is None:
        out["driver."] = facts.driver.unavailable
    if facts.driver.gpus is None:
        out["hardware."] = facts.driver.unavailable or "GPUs could not be listed"
    if facts.torch.unavailable:
        out["torch."] = facts.torch.unavailable
    live = facts.torch.live
    if live is None or live.unavailable:
        reason = live.unavailable if live else "the live torch probe was not run (--no-torch-live)"
        for f in _LIVE_TORCH_FIELDS:
            out[f] = reason or "torch live probe failed"
    if facts.packages.unavailable:
        out["packages."] = facts.packages.unavailable
    if facts.env.unavailable:
        out["env."] = facts.env.unavailable
    if facts.cuda.unavailable:
        out["cuda."] = facts.cuda.unavailable
    if facts.system.unavailable:
        out["system."] = facts.system.unavailable
    return out


def _show(value: Any) -> str:
    if isinstance(value, list):
        return "[" + " ".join(map(str, value)) + "]"
    return repr(value) if isinstance(value, str) else str(value)


def _fix_for(path: str, locked: Any) -> str:
    if path.startswith("packages."):
        return f"pip install '{path.removeprefix('packages.')}=={locked}'"
    if path == "torch.version":
        return f"pip install 'torch=={locked}' (from the index of its CUDA variant)"
    if path.startswith("driver."):
        return "install a driver at least as new as the locked one"
    if path.startswith("env."):
        name = path.removeprefix("env.")
        return f"export {name}={locked!r}" if locked is not None else f"unset {name}"
    if path.startswith("hardware."):
        return "run on the locked hardware, or verify with --scope software"
    return "restore the locked value, or regenerate the lock if the change is intended"
