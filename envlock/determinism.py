"""Determinism: run the seeded suite in a child process, lock its digests, compare them.

The workload itself lives in determinism_suite.py and runs under the
interpreter that has torch (this process never imports torch: a CUDA context
must not leak into the caller). This module turns its output into
DeterminismFacts, writes and reads the lock's [determinism] table, and
decides which digest differences are regressions and which are expected.

Which differences are expected is data (DEPENDS): for each device type and
class, the context keys whose change may legitimately change the bits
(compat-facts.md §5). A changed digest with no such key changed is an error.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from envlock.errors import DeterminismError, FactsError, LockError, UsageError
from envlock.facts import DeterminismFacts, DigestClassFacts, DigestSummary, _build
from envlock.findings import Finding, Severity

SUITE_PATH = Path(__file__).with_name("determinism_suite.py")
RESULT_MARK = "ENVLOCK-DETERMINISM-RESULT "
ERROR_MARK = "ENVLOCK-DETERMINISM-ERROR "
DEVICES = ("auto", "cpu", "cuda")
CLASSES = ("rng", "elementwise", "reduction", "matmul", "conv", "attention", "train")

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
        "elementwise": frozenset(_CPU_KERNELS),
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


# ------------------------------------------------------------------ running
def run_suite(
    *,
    device: str = "auto",
    seed: int = 0,
    python: str | None = None,
    timeout: float = 300.0,
) -> DeterminismFacts:
    """Run the suite under `python` (default: this interpreter) and return its facts."""
    if device not in DEVICES:
        raise UsageError(f"determinism device must be one of {', '.join(DEVICES)}, not {device!r}")
    py = python or sys.executable
    if not (os.path.isfile(py) and os.access(py, os.X_OK)):
        raise DeterminismError(f"cannot run the determinism suite: {py} is not an executable file")
    try:
        source = SUITE_PATH.read_text(encoding="utf-8")
    except OSError as exc:
        raise DeterminismError(f"determinism suite missing from envlock: {exc.strerror}") from None
    cmd = [py, "-", "--device", device, "--seed", str(seed)]
    try:
        proc = subprocess.run(
            cmd, input=source, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        raise DeterminismError(
            f"determinism suite under {py} did not finish within {timeout:g} s"
        ) from None
    except OSError as exc:
        raise DeterminismError(f"cannot run {py}: {exc.strerror}") from None
    return parse_suite_output(proc.stdout, proc.stderr, proc.returncode, py)


def parse_suite_output(stdout: str, stderr: str, returncode: int, python: str) -> DeterminismFacts:
    import json

    for line in stdout.splitlines():
        if line.startswith(ERROR_MARK):
            raise DeterminismError(f"determinism suite under {python}: {line[len(ERROR_MARK) :]}")
        if line.startswith(RESULT_MARK) and returncode == 0:
            try:
                data = json.loads(line[len(RESULT_MARK) :])
                return _build(DeterminismFacts, data, "determinism")
            except (json.JSONDecodeError, FactsError) as exc:
                raise DeterminismError(
                    f"determinism suite under {python}: bad result: {exc}"
                ) from None
    last = (stderr.strip().splitlines() or ["no output"])[-1]
    raise DeterminismError(f"determinism suite under {python} failed (exit {returncode}): {last}")


# ---------------------------------------------------------------- lock table
def _kebab(key: str) -> str:
    return key.replace("_", "-")


def _snake(key: str) -> str:
    return key.replace("-", "_")


def to_lock_table(d: DeterminismFacts) -> dict[str, Any]:
    """The [determinism] table: kebab-case keys, no None, no timings (they churn)."""
    table: dict[str, Any] = {
        "seed": d.seed,
        "suite-version": d.suite_version,
        "device": d.device,
        "context": {_kebab(k): v for k, v in sorted(d.context.items())},
        "settings": {_kebab(k): v for k, v in sorted(d.settings.items())},
    }
    classes: dict[str, Any] = {}
    for name in _ordered(d.classes):
        c = d.classes[name]
        entry: dict[str, Any] = {
            "digest": c.digest,
            "run-to-run-identical": c.run_to_run_identical,
        }
        if c.repeat_digest is not None:
            entry["repeat-digest"] = c.repeat_digest
        entry["tensors"] = c.tensors
        if c.skipped:
            entry["skipped"] = dict(sorted(c.skipped.items()))
        entry["summary"] = {
            "sum": c.summary.sum,
            "mean": c.summary.mean,
            "max-abs": c.summary.max_abs,
            "elements": c.summary.elements,
            "samples": list(c.summary.samples),
        }
        classes[name] = entry
    table["classes"] = classes
    if d.failed:
        table["failed"] = {k: d.failed[k] for k in _ordered(d.failed)}
    return table


def _ordered(names: Mapping[str, Any]) -> list[str]:
    known = [n for n in CLASSES if n in names]
    return known + sorted(n for n in names if n not in CLASSES)


class _Reader:
    """Typed getters over one lock table; errors name the dotted path."""

    def __init__(self, table: Any, path: str) -> None:
        if not isinstance(table, dict):
            raise LockError(f"in '{path}': expected a table, got {_kind(table)}")
        self.table: dict[str, Any] = table
        self.path = path

    def _get(self, key: str, types: tuple[type, ...], what: str, default: Any = ...) -> Any:
        if key not in self.table:
            if default is ...:
                raise LockError(f"in '{self.path}.{key}': required key is missing")
            return default
        value = self.table[key]
        if not isinstance(value, types) or (bool not in types and isinstance(value, bool)):
            raise LockError(f"in '{self.path}.{key}': expected {what}, got {_kind(value)}")
        return value

    def text(self, key: str, default: Any = ...) -> Any:
        return self._get(key, (str,), "a string", default)

    def integer(self, key: str) -> int:
        value: int = self._get(key, (int,), "an integer")
        return value

    def number(self, key: str) -> float:
        return float(self._get(key, (int, float), "a number"))

    def flag(self, key: str) -> bool:
        value: bool = self._get(key, (bool,), "true or false", True)
        return value

    def sub(self, key: str, *, required: bool = True) -> _Reader:
        if key not in self.table and not required:
            return _Reader({}, f"{self.path}.{key}")
        return _Reader(self._get(key, (dict,), "a table"), f"{self.path}.{key}")

    def strings(self) -> dict[str, str]:
        return {k: self.text(k) for k in self.table}

    def floats(self, key: str) -> list[float]:
        items = self._get(key, (list,), "an array of numbers", [])
        for i, v in enumerate(items):
            if not isinstance(v, (int, float)) or isinstance(v, bool):
                raise LockError(f"in '{self.path}.{key}[{i}]': expected a number, got {_kind(v)}")
        return [float(v) for v in items]


def _kind(value: Any) -> str:
    names = {
        dict: "a table",
        list: "an array",
        str: "a string",
        bool: "a boolean",
        int: "an integer",
        float: "a float",
    }
    return names.get(type(value), type(value).__name__)


def from_lock_table(table: dict[str, Any]) -> DeterminismFacts:
    """Inverse of to_lock_table; a LockError names the dotted path of bad data."""
    top = _Reader(table, "determinism")
    device = top.text("device")
    if device not in ("cpu", "cuda"):
        raise LockError(f"in 'determinism.device': expected cpu or cuda, got {device!r}")
    classes: dict[str, DigestClassFacts] = {}
    for name in top.sub("classes").table:
        c = top.sub("classes").sub(name)
        digest = c.text("digest")
        if not digest.startswith("sha256:"):
            raise LockError(f"in '{c.path}.digest': expected 'sha256:<hex>', got {digest!r}")
        s = c.sub("summary")
        classes[name] = DigestClassFacts(
            digest=digest,
            run_to_run_identical=c.flag("run-to-run-identical"),
            repeat_digest=c.text("repeat-digest", None),
            tensors=c.integer("tensors"),
            skipped=c.sub("skipped", required=False).strings(),
            summary=DigestSummary(
                sum=s.number("sum"),
                mean=s.number("mean"),
                max_abs=s.number("max-abs"),
                elements=s.integer("elements"),
                samples=s.floats("samples"),
            ),
        )
    return DeterminismFacts(
        seed=top.integer("seed"),
        suite_version=top.integer("suite-version"),
        device=device,
        context={_snake(k): v for k, v in top.sub("context").strings().items()},
        settings={_snake(k): v for k, v in top.sub("settings").strings().items()},
        classes=classes,
        failed=top.sub("failed", required=False).strings(),
    )


# --------------------------------------------------------------- comparison
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
    if locked.suite_version != observed.suite_version:
        return [
            Finding(
                check_id="EL-DET-SUITE-VERSION",
                severity=Severity.WARNING,
                field="determinism",
                locked=locked.suite_version,
                observed=observed.suite_version,
                message=(
                    f"determinism suite version {observed.suite_version} differs from the "
                    f"locked {locked.suite_version}: digests were not compared"
                ),
                fix="regenerate the lock with `envlock lock --determinism`",
            )
        ]
    if locked.seed != observed.seed:
        return [
            Finding(
                check_id="EL-DET-INCOMPARABLE",
                severity=Severity.ERROR,
                field="determinism.seed",
                locked=locked.seed,
                observed=observed.seed,
                message=f"digests computed with seed {observed.seed}, the lock has {locked.seed}",
                fix=f"recompute with --seed {locked.seed}",
            )
        ]
    diffs = context_differences(locked, observed)
    evidence_ctx = {k: {"locked": a, "observed": b} for k, (a, b) in diffs.items()}
    findings: list[Finding] = []
    for name in _ordered(locked.classes):
        lc = locked.classes[name]
        field = f"determinism.{name}"
        oc = observed.classes.get(name)
        if oc is None:
            reason = observed.failed.get(name, "the suite did not run it")
            findings.append(
                Finding(
                    check_id="EL-DET-CLASS-FAILED",
                    severity=Severity.ERROR,
                    field=field,
                    locked=short_digest(lc.digest),
                    observed=None,
                    message=f"{field}: locked, but could not be computed here: {reason}",
                    fix="run `envlock determinism --format json` to see why",
                )
            )
            continue
        if oc.digest == lc.digest:
            continue
        tol = TOLERANCE.get(name)
        agreement = None if tol is None else compare_summaries(lc.summary, oc.summary, tol)
        numbers = _numbers(name, agreement)
        evidence: dict[str, Any] = {
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
        common: dict[str, Any] = {
            "field": field,
            "locked": short_digest(lc.digest),
            "observed": short_digest(oc.digest),
            "evidence": evidence,
        }
        if not diffs:
            findings.append(
                Finding(
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
                    **common,
                )
            )
            continue
        keys = explaining_keys(name, locked.device, diffs)
        if not keys:
            findings.append(
                Finding(
                    check_id="EL-DET-MISMATCH",
                    severity=Severity.ERROR,
                    message=(
                        f"{field}: digest differs although nothing it depends on changed "
                        f"(context differs only in {_show(diffs, list(diffs))}); {numbers}"
                    ),
                    fix="treat as a regression: find what changed in the stack besides these fields",
                    **common,
                )
            )
        elif agreement is not None and not agreement.agree:
            findings.append(
                Finding(
                    check_id="EL-DET-TOLERANCE",
                    severity=Severity.WARNING,
                    message=(
                        f"{field}: digest differs, expected from {_show(diffs, keys)}, "
                        f"but {numbers}"
                    ),
                    fix="differences this large are more than rounding: check the numerics of this op",
                    **common,
                )
            )
        else:
            findings.append(
                Finding(
                    check_id="EL-DET-EXPECTED-DIFF",
                    severity=Severity.INFO,
                    message=f"{field}: digest differs, expected from {_show(diffs, keys)}; {numbers}",
                    **common,
                )
            )
    return findings


def short_digest(digest: str) -> str:
    """'sha256:' and 12 hex digits: enough to tell digests apart in a table."""
    return digest[: len("sha256:") + 12]


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
    findings: list[Finding] = []
    for name in _ordered(d.classes):
        c = d.classes[name]
        if c.run_to_run_identical:
            continue
        findings.append(
            Finding(
                check_id="EL-DET-RUN-TO-RUN",
                severity=Severity.ERROR,
                field=f"determinism.{name}",
                locked=short_digest(c.digest),
                observed=short_digest(c.repeat_digest or ""),
                message=(
                    f"determinism.{name}: two runs in one process gave different digests: "
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
                    "settings": dict(d.settings),
                    "context": dict(d.context),
                },
            )
        )
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
