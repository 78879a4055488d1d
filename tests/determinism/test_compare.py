"""compare / run_to_run_findings over recorded CPU runs and constructed GPU contexts."""

from __future__ import annotations

import dataclasses

import pytest

from envlock.determinism import CLASSES
from envlock.determinism.compare import (
    DEPENDS,
    compare,
    compare_summaries,
    context_differences,
    run_to_run_findings,
)
from envlock.facts import DigestSummary
from envlock.findings import Severity
from tests.determinism.recordings import (
    A100,
    CPU_1_THREAD,
    CPU_2_13,
    CPU_2_14,
    CPU_AVX2,
    CPU_INTEL,
    CPU_PERTURBED,
    H100,
    H200,
    flip_digest,
    load,
    with_class,
)


def by_class(findings: list) -> dict[str, tuple[str, Severity]]:
    out = {}
    for f in findings:
        assert f.field is not None and f.field.startswith("determinism")
        out[f.field.removeprefix("determinism.")] = (f.check_id, f.severity)
    return out


# ------------------------------------------------------------- same context
def test_recorded_run_matches_itself() -> None:
    d = load(CPU_2_13)
    assert set(d.classes) == set(CLASSES)
    assert compare(d, d) == []


@pytest.mark.parametrize("cls", CLASSES)
def test_same_context_any_changed_digest_is_an_error_naming_the_class(cls: str) -> None:
    locked = load(CPU_2_13)
    edited = with_class(locked, cls, digest=flip_digest(locked.classes[cls].digest))
    findings = compare(edited, locked)
    assert by_class(findings) == {cls: ("EL-DET-MISMATCH", Severity.ERROR)}
    (f,) = findings
    assert f"determinism.{cls}" in f.message and "same context" in f.message
    assert f.evidence["context_differences"] == {}


# ------------------------------------------------- different context (recorded)
def test_one_thread_vs_two_threads_recorded_differences_are_expected() -> None:
    # Real: with OMP_NUM_THREADS=1, CPU reductions, conv and training change bits.
    findings = compare(load(CPU_2_13), load(CPU_1_THREAD))
    verdicts = by_class(findings)
    assert verdicts, "the recordings differ in some class: this test must compare something"
    assert set(verdicts) <= {"reduction", "conv", "matmul", "attention", "train"}
    for cls, (check, severity) in verdicts.items():
        assert (check, severity) == ("EL-DET-EXPECTED-DIFF", Severity.INFO), cls
    for f in findings:
        assert "num_threads 2 -> 1" in f.message
        assert f.evidence["summary"]["agree"] is True


def test_avx2_vs_avx512_recorded_differences_are_expected_and_within_tolerance() -> None:
    findings = compare(load(CPU_2_13), load(CPU_AVX2))
    verdicts = by_class(findings)
    assert "elementwise" in verdicts  # vectorised exp/log/gelu differ between ISAs
    assert all(v == ("EL-DET-EXPECTED-DIFF", Severity.INFO) for v in verdicts.values())
    assert all("cpu_capability AVX512 -> AVX2" in f.message for f in findings)


def test_torch_2_13_vs_2_14_on_cpu_recorded() -> None:
    locked, observed = load(CPU_2_13), load(CPU_2_14)
    assert context_differences(locked, observed) == {"torch": ("2.13.0+cpu", "2.14.1+cu130")}
    # Recorded result: identical bits across these two releases on this CPU.
    assert compare(locked, observed) == []
    # Had they differed, a torch change explains any class.
    drifted = with_class(observed, "rng", digest=flip_digest(observed.classes["rng"].digest))
    assert by_class(compare(locked, drifted)) == {"rng": ("EL-DET-EXPECTED-DIFF", Severity.INFO)}


def test_context_change_irrelevant_to_the_class_is_an_error() -> None:
    # elementwise does not depend on the thread count: a changed digest there is a regression.
    locked, observed = load(CPU_2_13), load(CPU_1_THREAD)
    assert "num_threads" not in DEPENDS["cpu"]["elementwise"]
    drifted = with_class(
        observed, "elementwise", digest=flip_digest(observed.classes["elementwise"].digest)
    )
    verdicts = by_class(compare(locked, drifted))
    assert verdicts["elementwise"] == ("EL-DET-MISMATCH", Severity.ERROR)
    assert verdicts["reduction"] == ("EL-DET-EXPECTED-DIFF", Severity.INFO)


def test_expected_difference_beyond_tolerance_is_a_warning() -> None:
    locked, observed = load(CPU_2_13), load(CPU_AVX2)
    s = observed.classes["elementwise"].summary
    off = DigestSummary(
        sum=s.sum,
        mean=s.mean,
        max_abs=s.max_abs,
        elements=s.elements,
        samples=[s.samples[0] + 0.5 * s.max_abs, *s.samples[1:]],
    )
    findings = compare(locked, with_class(observed, "elementwise", summary=off))
    (f,) = [f for f in findings if f.field == "determinism.elementwise"]
    assert (f.check_id, f.severity) == ("EL-DET-TOLERANCE", Severity.WARNING)
    assert "samples[0]" in f.message and f.evidence["summary"]["agree"] is False


# ------------------------------------------------- GPU contexts (constructed)
def test_h100_vs_h200_same_arch_and_sm_count_must_match() -> None:
    h100, h200 = load(H100), load(H200)
    diffs = context_differences(h100, h200)
    assert set(diffs) == {"gpu_name"}
    assert compare(h100, h200) == []
    drifted = with_class(h200, "matmul", digest=flip_digest(h200.classes["matmul"].digest))
    (f,) = compare(h100, drifted)
    assert (f.check_id, f.severity, f.field) == (
        "EL-DET-MISMATCH",
        Severity.ERROR,
        "determinism.matmul",
    )
    assert "nothing it depends on changed" in f.message and "gpu_name" in f.message


def test_h100_vs_a100_arch_change_explains_all_but_rng() -> None:
    h100, a100 = load(H100), load(A100)
    verdicts = by_class(compare(h100, a100))
    assert "rng" not in verdicts  # the constructed rng digests agree, as the rules predict
    assert set(verdicts) == set(CLASSES) - {"rng"}
    assert all(v == ("EL-DET-EXPECTED-DIFF", Severity.INFO) for v in verdicts.values())
    # ... but an rng stream that changes with the GPU is a real problem.
    drifted = with_class(a100, "rng", digest=flip_digest(a100.classes["rng"].digest))
    assert by_class(compare(h100, drifted))["rng"] == ("EL-DET-MISMATCH", Severity.ERROR)


@pytest.mark.parametrize(
    ("key", "value", "expected", "unexpected"),
    [
        (
            "cublas",
            "13.2.0",
            {"matmul", "conv", "attention", "train"},
            {"elementwise", "reduction"},
        ),
        ("cudnn", "9.25.0", {"conv", "attention", "train"}, {"matmul", "elementwise", "reduction"}),
        ("sm_count", "114", {"reduction", "matmul", "conv", "attention", "train"}, {"elementwise"}),
        ("driver", "590.48.01", set(), {"matmul", "elementwise", "conv"}),
    ],
)
def test_gpu_library_changes_explain_only_the_classes_that_use_them(
    key: str, value: str, expected: set[str], unexpected: set[str]
) -> None:
    h100 = load(H100)
    observed = dataclasses.replace(h100, context={**h100.context, key: value})
    for cls in expected | unexpected:
        observed = with_class(observed, cls, digest=flip_digest(observed.classes[cls].digest))
    verdicts = by_class(compare(h100, observed))
    for cls in expected:
        assert verdicts[cls] == ("EL-DET-EXPECTED-DIFF", Severity.INFO), cls
    for cls in unexpected:
        assert verdicts[cls] == ("EL-DET-MISMATCH", Severity.ERROR), cls


def test_gpu_lock_vs_cpu_run_everything_expected_rng_not_compared() -> None:
    findings = compare(load(H100), load(CPU_2_13))
    verdicts = by_class(findings)
    assert set(verdicts) == set(CLASSES)
    assert all(v == ("EL-DET-EXPECTED-DIFF", Severity.INFO) for v in verdicts.values())
    rng = next(f for f in findings if f.field == "determinism.rng")
    assert "not compared" in rng.message and "summary" not in rng.evidence


def test_changed_setting_explains_every_class() -> None:
    h100 = load(H100)
    observed = dataclasses.replace(
        h100, settings={**h100.settings, "cublas_workspace_config": ":16:8"}
    )
    observed = with_class(
        observed, "elementwise", digest=flip_digest(observed.classes["elementwise"].digest)
    )
    (f,) = compare(h100, observed)
    assert f.check_id == "EL-DET-EXPECTED-DIFF"
    assert "settings.cublas_workspace_config unset -> :16:8" in f.message


# ------------------------------------------------------------- incomparable
def test_other_seed_is_not_compared() -> None:
    d = load(CPU_2_13)
    (f,) = compare(d, dataclasses.replace(d, seed=1))
    assert (f.check_id, f.severity) == ("EL-DET-INCOMPARABLE", Severity.ERROR)


def test_other_suite_version_is_a_warning() -> None:
    d = load(CPU_2_13)
    (f,) = compare(d, dataclasses.replace(d, suite_version=d.suite_version + 1))
    assert (f.check_id, f.severity) == ("EL-DET-SUITE-VERSION", Severity.WARNING)


def test_class_that_could_not_run_is_an_error() -> None:
    d = load(CPU_2_13)
    classes = {k: v for k, v in d.classes.items() if k != "attention"}
    observed = dataclasses.replace(
        d, classes=classes, failed={"attention": "RuntimeError: no deterministic kernel"}
    )
    (f,) = compare(d, observed)
    assert (f.check_id, f.field) == ("EL-DET-CLASS-FAILED", "determinism.attention")
    assert "no deterministic kernel" in f.message


# --------------------------------------------------------------- run to run
def test_run_to_run_clean_recording_has_no_findings() -> None:
    d = load(CPU_2_13)
    assert all(c.run_to_run_identical for c in d.classes.values())
    assert run_to_run_findings(d) == []


def test_run_to_run_recorded_negative_control_names_the_class() -> None:
    d = load(CPU_PERTURBED)
    findings = run_to_run_findings(d)
    ids = sorted((f.check_id, f.field) for f in findings)
    assert ids == [("EL-DET-PERTURBED", "determinism"), ("EL-DET-RUN-TO-RUN", "determinism.matmul")]
    r2r = next(f for f in findings if f.check_id == "EL-DET-RUN-TO-RUN")
    assert r2r.severity is Severity.ERROR
    assert r2r.evidence["run_1_digest"] != r2r.evidence["run_2_digest"]
    # The perturbation touches only the second run: the locked digest is the real one.
    assert d.classes["matmul"].digest == load(CPU_2_13).classes["matmul"].digest


def test_failed_class_is_reported_by_run_to_run_findings() -> None:
    d = dataclasses.replace(load(CPU_2_13), failed={"attention": "RuntimeError: x"})
    (f,) = run_to_run_findings(d)
    assert (f.check_id, f.severity, f.field) == (
        "EL-DET-CLASS-FAILED",
        Severity.WARNING,
        "determinism.attention",
    )


# ---------------------------------------------------------------- summaries
def test_summary_tolerance_scales_with_magnitude() -> None:
    a = DigestSummary(sum=100.0, mean=0.1, max_abs=10.0, elements=1000, samples=[1.0, -2.0])
    near = DigestSummary(
        sum=100.2, mean=0.1001, max_abs=10.0, elements=1000, samples=[1.0005, -2.0]
    )
    far = DigestSummary(sum=100.0, mean=0.1, max_abs=10.0, elements=1000, samples=[2.0, -2.0])
    assert compare_summaries(a, near, 1e-3).agree
    bad = compare_summaries(a, far, 1e-3)
    assert not bad.agree and bad.where == "samples[0]" and bad.worst == pytest.approx(0.1)
    other_size = DigestSummary(sum=100.0, mean=0.1, max_abs=10.0, elements=999, samples=[1, -2])
    assert not compare_summaries(a, other_size, 1.0).agree


def test_a_newer_suite_version_is_an_error_an_older_one_a_warning() -> None:
    d = load(CPU_2_13)
    (newer,) = compare(dataclasses.replace(d, suite_version=99), d)
    assert (newer.check_id, newer.severity) == ("EL-DET-SUITE-VERSION", Severity.ERROR)
    assert "upgrade envlock" in (newer.fix or "")
    (older,) = compare(dataclasses.replace(d, suite_version=0), d)
    assert older.severity is Severity.WARNING


def test_another_cpu_model_of_the_same_capability_is_expected_for_elementwise() -> None:
    """Both recorded: torch 2.13 AVX512 on an AMD EPYC and on an Intel Xeon. Elementwise,
    matmul, attention and train bits differ, each expected from cpu_model (warnings, the
    summaries within tolerance); rng, reduction and conv are bitwise equal."""
    amd, intel = load(CPU_2_13), load(CPU_INTEL)
    assert amd.context["cpu_capability"] == intel.context["cpu_capability"] == "AVX512"
    assert amd.context["cpu_model"] != intel.context["cpu_model"]
    findings = compare(amd, intel)
    assert [f for f in findings if f.severity is Severity.ERROR] == []
    changed = {f.field for f in findings}
    assert "determinism.elementwise" in changed
    assert all("expected from cpu_model" in f.message for f in findings)


def test_elementwise_bits_changed_on_the_same_cpu_model_are_an_error() -> None:
    intel = load(CPU_INTEL)
    other = dataclasses.replace(
        intel,
        classes={
            **intel.classes,
            "elementwise": dataclasses.replace(
                intel.classes["elementwise"], digest="sha256:" + "0" * 64
            ),
        },
    )
    errors = [f for f in compare(intel, other) if f.severity is Severity.ERROR]
    assert [f.field for f in errors] == ["determinism.elementwise"]
