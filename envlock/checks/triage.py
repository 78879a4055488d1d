"""Which finding to read first: the cause, before the findings that only restate its effect."""

from __future__ import annotations

from collections.abc import Iterable

from envlock.findings import Finding, Severity

# Findings that report a symptom whose cause other findings name (their own fix says
# "see the other findings"), and the note about unobserved facts: read after the causes.
CONSEQUENCES = frozenset({"EL-TORCH-CUDA-UNAVAILABLE", "EL-FACTS-UNAVAILABLE"})


def top_finding(findings: Iterable[Finding]) -> Finding | None:
    """The most severe finding, a cause before a consequence, then in check-ID order;
    None when nothing is above info level."""
    ranked = sorted(
        (f for f in findings if f.severity > Severity.INFO),
        key=lambda f: (-f.severity, f.check_id in CONSEQUENCES, f.check_id),
    )
    return ranked[0] if ranked else None
