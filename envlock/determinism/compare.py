"""Compare locked determinism digests with fresh ones, and find run-to-run problems.

Pure functions of DeterminismFacts. Which differences are expected is data
(DEPENDS): for each device type and class, the context keys whose change may
legitimately change the bits (a different GPU architecture, SM count, cuBLAS
or cuDNN picks different kernels and reduction orders; see PyTorch's
"Reproducibility" notes, https://pytorch.org/docs/stable/notes/randomness.html,
and cuBLAS's "Results reproducibility" section,
https://docs.nvidia.com/cuda/cublas/#results-reproducibility). A changed
digest with no such key changed is an error.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from envlock.determinism import ordered as _ordered
from envlock.determinism import short_digest
from envlock.facts import DeterminismFacts, DigestClassFacts, DigestSummary
from envlock.findings import Finding, Severity

# Context keys that only describe where the numbers came from, never change them.
_DESCRIPTIVE = frozenset({"cublas_source"})

_GPU_KERNELS = ("torch", "cuda", "compute_capability", "sm_count")
_GPU_LIBS = (*_GPU_KERNELS, "cublas", "cudnn")
_CPU_KERNELS = ("torch", "machine", "cpu_capability")
# oneDNN/MKL pick kernels by CPU model and split work by thread count.
_CPU_LIBS = (*_CPU_KERNELS, "cpu_model", "num_threads")

# device type -> class -> context keys whose change may change that class's bits.
DEPENDS: dict[str, dict[str, frozenset[str]]] = {
    "cuda": {
        # Philox streams are GPU-independent for the suite's sizes (see the suite).
        "rng": frozenset({"torch"}),
        "elementwise": frozenset({"torch", "cuda", "compute_capability"}),
        "reduction": frozenset(_GPU_KERNELS),
        "matmul": frozenset({*_GPU_KERNELS, "cublas"}),
        "conv": frozenset(_GPU_LIBS),
        "attention": frozenset(_GPU_LIBS),
        "train": frozenset(_GPU_LIBS),
    },
    "cpu": {
        "rng": frozenset(_CPU_KERNELS),  # CPU randn has a separate AVX2 path
        # Recorded: the same torch 2.13 AVX512 build on an AMD EPYC and on an Intel Xeon
        # (AVX512-FP16) gives other elementwise bits (summaries within 1e-5): exp and log
        # are MKL VML calls, and MKL picks its kernels by CPU vendor and model (the AMD
        # digest is MKL's SSE4.2 exp, the Intel one its AVX512 exp).
        "elementwise": frozenset({*_CPU_KERNELS, "cpu_model"}),
        "reduction": frozenset({*_CPU_KERNELS, "num_threads"}),
        "matmul": frozenset(_CPU_LIBS),
        "conv": frozenset(_CPU_LIBS),
        "attention": frozenset(_CPU_LIBS),
        "train": frozenset(_CPU_LIBS),
    },
}

# Relative tolerance of summaries when bits differ for an expected reason; None: not
# comparable (another generator or stream gives other numbers, not nearby ones).
TOLERANCE: dict[str, float | None] = {
    "rng": None,
    "elementwise": 1e-5,
    "reduction": 1e-5,
    "matmul": 2e-2,  # includes bf16/fp16 products and TF32
    "conv": 1e-4,  # fp32 with TF32 off
    "attention": 2e-2,  # includes bf16
    "train": 1e-2,  # AdamW turns tiny gradient differences into lr-sized steps
}


@dataclass(frozen=True, kw_only=True, slots=True)
class SummaryAgreement:
    agree: bool
    rtol: float
    worst: float  # largest deviation relative to the class's scale
    where: str  # which statistic deviates most


def compare_summaries(a: DigestSummary, b: DigestSummary, rtol: float) -> SummaryAgreement:
    """Tolerance check scaled to the class's magnitude (max |x|), not to each value,
    so values near zero do not turn rounding noise into huge relative errors."""
    if a.elements != b.elements or len(a.samples) != len(b.samples):
        return SummaryAgreement(
            agree=False, rtol=rtol, worst=math.inf, where=f"elements {a.elements} vs {b.elements}"
        )
    scale = max(abs(a.max_abs), abs(b.max_abs)) or 1.0
    pairs: list[tuple[str, float, float, float]] = [
        ("max-abs", a.max_abs, b.max_abs, scale),
        ("mean", a.mean, b.mean, scale),
        # Independent rounding errors of n terms grow like sqrt(n).
        ("sum", a.sum, b.sum, scale * math.sqrt(max(a.elements, 1))),
    ]
    pairs += [
        (f"samples[{i}]", x, y, scale)
        for i, (x, y) in enumerate(zip(a.samples, b.samples, strict=True))
    ]
    worst, where = 0.0, "none"
    for name, x, y, s in pairs:
        dev = 0.0 if x == y else abs(x - y) / s
        if math.isnan(dev):
            dev = math.inf
        if dev > worst:
            worst, where = dev, name
    return SummaryAgreement(agree=worst <= rtol, rtol=rtol, worst=worst, where=where)


def context_differences(
    locked: DeterminismFacts, observed: DeterminismFacts
) -> dict[str, tuple[str, str]]:
    """key -> (locked, observed) for context and settings ('settings.<name>') that differ."""
    out: dict[str, tuple[str, str]] = {}
    for prefix, a, b in (
        ("", locked.context, observed.context),
        ("settings.", locked.settings, observed.settings),
    ):
        for key in sorted(set(a) | set(b)):
            if key in _DESCRIPTIVE:
                continue
            la, ob = a.get(key, "absent"), b.get(key, "absent")
            if la != ob:
                out[prefix + key] = (la, ob)
    if locked.device != observed.device:
        out.setdefault("device_type", (locked.device, observed.device))
    return out


def explaining_keys(cls: str, device: str, diffs: Mapping[str, tuple[str, str]]) -> list[str]:
    """The differing context keys that make a changed digest of `cls` expected."""
    if "device_type" in diffs:
        return ["device_type"]
    depends = DEPENDS.get(device, {}).get(cls)
    if depends is None:  # a class this envlock does not know: any difference may explain it
        return list(diffs)
    # Settings are part of the suite's definition: any change may change any class.
    return [k for k in diffs if k in depends or k.startswith("settings.")]


def _show(diffs: Mapping[str, tuple[str, str]], keys: list[str]) -> str:
    return ", ".join(f"{k} {diffs[k][0]} -> {diffs[k][1]}" for k in keys)


def compare(locked: DeterminismFacts, observed: DeterminismFacts) -> list[Finding]:
    """Cross-machine comparison of locked digests with freshly computed ones.

    Run-to-run problems of `observed` are not repeated here: see run_to_run_findings.
    """
    incomparable = _incomparable(locked, observed)
    if incomparable is not None:
        return [incomparable]
    diffs = context_differences(locked, observed)
    evidence_ctx = {k: {"locked": a, "observed": b} for k, (a, b) in diffs.items()}
    findings: list[Finding] = []
    for name in _ordered(locked.classes):
        finding = _class_finding(name, locked, observed, diffs, evidence_ctx)
        if finding is not None:
            findings.append(finding)
    return findings


def _incomparable(locked: DeterminismFacts, observed: DeterminismFacts) -> Finding | None:
    """Another suite version or seed: no digest can be compared."""
    if locked.suite_version != observed.suite_version:
        # A newer suite than this envlock runs cannot be checked at all: an error, not a
        # pass. An older one is a known workload whose digests need regenerating.
        newer = locked.suite_version > observed.suite_version
        return Finding(
            check_id="EL-DET-SUITE-VERSION",
            severity=Severity.ERROR if newer else Severity.WARNING,
            field="determinism",
            locked=locked.suite_version,
            observed=observed.suite_version,
            message=(
                f"determinism suite version {observed.suite_version} differs from the "
                f"locked {locked.suite_version}: digests were not compared"
            ),
            fix="upgrade envlock to the version that wrote the lock"
            if newer
            else "regenerate the lock with `envlock lock --determinism`",
        )
    if locked.seed != observed.seed:
        return Finding(
            check_id="EL-DET-INCOMPARABLE",
            severity=Severity.ERROR,
            field="determinism.seed",
            locked=locked.seed,
            observed=observed.seed,
            message=f"digests computed with seed {observed.seed}, the lock has {locked.seed}",
            fix=f"recompute with --seed {locked.seed}",
        )
    return None


def _class_finding(
    name: str,
    locked: DeterminismFacts,
    observed: DeterminismFacts,
    diffs: Mapping[str, tuple[str, str]],
    evidence_ctx: dict[str, dict[str, str]],
) -> Finding | None:
    """One locked class against its fresh digest; None when they are equal."""
    lc = locked.classes[name]
    field = f"determinism.{name}"
    oc = observed.classes.get(name)
    if oc is None:
        reason = observed.failed.get(name, "the suite did not run it")
        return Finding(
            check_id="EL-DET-CLASS-FAILED",
            severity=Severity.ERROR,
            field=field,
            locked=short_digest(lc.digest),
            observed=None,
            message=f"{field}: locked, but could not be computed here: {reason}",
            fix="run `envlock determinism --format json` to see why",
        )
    if oc.digest == lc.digest:
        return None
    tol = TOLERANCE.get(name)
    agreement = None if tol is None else compare_summaries(lc.summary, oc.summary, tol)
    verdict = _verdict(name, locked.device, diffs, agreement)
    return Finding(
        check_id=verdict.check_id,
        severity=verdict.severity,
        message=verdict.message,
        fix=verdict.fix,
        field=field,
        locked=short_digest(lc.digest),
        observed=short_digest(oc.digest),
        evidence=_digest_evidence(lc, oc, evidence_ctx, agreement),
    )


def _digest_evidence(
    lc: DigestClassFacts,
    oc: DigestClassFacts,
    evidence_ctx: dict[str, dict[str, str]],
    agreement: SummaryAgreement | None,
) -> dict[str, object]:
    evidence: dict[str, object] = {
        "locked_digest": lc.digest,
        "observed_digest": oc.digest,
        "context_differences": evidence_ctx,
    }
    if agreement is not None:
        evidence["summary"] = {
            "agree": agreement.agree,
            "rtol": agreement.rtol,
            "worst_relative_deviation": agreement.worst,
            "at": agreement.where,
        }
    if lc.skipped != oc.skipped:
        evidence["skipped"] = {"locked": lc.skipped, "observed": oc.skipped}
    return evidence


@dataclass(frozen=True, kw_only=True, slots=True)
class _Verdict:
    check_id: str
    severity: Severity
    message: str
    fix: str | None = None


def _verdict(
    name: str,
    device: str,
    diffs: Mapping[str, tuple[str, str]],
    agreement: SummaryAgreement | None,
) -> _Verdict:
    """What a changed digest of class `name` means, given what else changed."""
    field = f"determinism.{name}"
    numbers = _numbers(name, agreement)
    if not diffs:
        return _Verdict(
            check_id="EL-DET-MISMATCH",
            severity=Severity.ERROR,
            message=(
                f"{field}: digest differs on the same context (same device, libraries "
                f"and settings): a regression or a nondeterministic kernel; {numbers}"
            ),
            fix=(
                "compare `envlock determinism --format json` on both machines; an op that is "
                "run-to-run stable but machine-dependent points at hardware or a library"
            ),
        )
    keys = explaining_keys(name, device, diffs)
    if not keys:
        return _Verdict(
            check_id="EL-DET-MISMATCH",
            severity=Severity.ERROR,
            message=(
                f"{field}: digest differs although nothing it depends on changed "
                f"(context differs only in {_show(diffs, list(diffs))}); {numbers}"
            ),
            fix="treat as a regression: find what changed in the stack besides these fields",
        )
    if agreement is not None and not agreement.agree:
        return _Verdict(
            check_id="EL-DET-TOLERANCE",
            severity=Severity.WARNING,
            message=(f"{field}: digest differs, expected from {_show(diffs, keys)}, but {numbers}"),
            fix="differences this large are more than rounding: check the numerics of this op",
        )
    return _Verdict(
        check_id="EL-DET-EXPECTED-DIFF",
        severity=Severity.INFO,
        message=f"{field}: digest differs, expected from {_show(diffs, keys)}; {numbers}",
    )


def _numbers(name: str, agreement: SummaryAgreement | None) -> str:
    if agreement is None:
        return f"summaries not compared ({name} streams differ wholesale, not by rounding)"
    if agreement.agree:
        return f"summaries agree within rtol {agreement.rtol:g}"
    return (
        f"summaries disagree beyond rtol {agreement.rtol:g} "
        f"(deviation {agreement.worst:.3g} at {agreement.where})"
    )


def run_to_run_findings(d: DeterminismFacts) -> list[Finding]:
    """Problems visible in one run: classes whose two in-process runs differ, classes that
    could not run, and a negative-control perturbation that is switched on."""
    findings = [
        _run_to_run(d, name)
        for name in _ordered(d.classes)
        if not d.classes[name].run_to_run_identical
    ]
    for name in _ordered(d.failed):
        findings.append(
            Finding(
                check_id="EL-DET-CLASS-FAILED",
                severity=Severity.WARNING,
                field=f"determinism.{name}",
                message=f"determinism.{name}: could not run here: {d.failed[name]}",
                fix="this class is left out of the digests; a newer torch may support it",
                evidence={"context": dict(d.context)},
            )
        )
    perturb = d.settings.get("perturb")
    if perturb:
        findings.append(
            Finding(
                check_id="EL-DET-PERTURBED",
                severity=Severity.WARNING,
                field="determinism",
                message=(
                    f"negative control ENVLOCK_DETERMINISM_PERTURB={perturb} is on: "
                    "these digests must not be locked"
                ),
                fix="unset ENVLOCK_DETERMINISM_PERTURB",
            )
        )
    return findings


def _run_to_run(d: DeterminismFacts, name: str) -> Finding:
    c = d.classes[name]
    # The ops whose outputs differed (suites before the per-op digests do not say).
    ops = f" ({', '.join(c.differing_ops)} differ)" if c.differing_ops else ""
    return Finding(
        check_id="EL-DET-RUN-TO-RUN",
        severity=Severity.ERROR,
        field=f"determinism.{name}",
        locked=short_digest(c.digest),
        observed=short_digest(c.repeat_digest or ""),
        message=(
            f"determinism.{name}: two runs in one process gave different digests{ops}: "
            "a nondeterministic kernel or setting"
        ),
        fix=(
            "keep torch.use_deterministic_algorithms(True), cudnn.benchmark off"
            + (", CUBLAS_WORKSPACE_CONFIG=:4096:8" if d.device == "cuda" else "")
            + "; look for ops outside the deterministic list"
        ),
        evidence={
            "run_1_digest": c.digest,
            "run_2_digest": c.repeat_digest,
            "differing_ops": list(c.differing_ops),
            "settings": dict(d.settings),
            "context": dict(d.context),
        },
    )
