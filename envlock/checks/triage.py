"""Which finding to read first: the cause, before the findings that only restate its effect."""

from __future__ import annotations

from collections.abc import Iterable

from envlock.findings import Finding, Severity

# Findings that report a symptom whose cause other findings name (their own fix says
# "see the other findings"), and the note about unobserved facts: read after the causes.
CONSEQUENCES = frozenset({"EL-TORCH-CUDA-UNAVAILABLE", "EL-FACTS-UNAVAILABLE"})

# Causes that no change of build, family or install can get past, in the order they bind:
# a GPU that no official build serves (a driver fix is moot on it), then a machine whose
# driver is missing or runs no install here (two installs or a family mismatch are moot
# until a driver runs torch at all), then a driver that loads none of Triton's kernels
# (every torch 2.x pins a Triton whose bundled ptxas is CUDA 12 or newer: no build of
# torch or its family gets those kernels past it).
ROOTS = ("EL-GPU-UNSERVABLE", "EL-NO-DRIVER", "EL-DRIVER-TOO-OLD", "EL-TRITON-DRIVER-TOO-OLD")


def _named(findings: list[Finding]) -> frozenset[str]:
    """The check IDs a finding names as its own consequences (evidence 'consequences': a
    family member of another variant and the nvidia-* wheels it pulled in, vllm#16632)."""
    named: set[str] = set()
    for f in findings:
        after = f.evidence.get("consequences")
        if isinstance(after, list):
            named.update(str(c) for c in after if c != f.check_id)
    return frozenset(named)


def top_finding(findings: Iterable[Finding]) -> Finding | None:
    """The most severe finding, a root cause before the rest and a cause before a
    consequence, then in check-ID order; None when nothing is above info level."""
    above = [f for f in findings if f.severity > Severity.INFO]
    after = CONSEQUENCES | _named(above)

    def rank(f: Finding) -> tuple[int, bool, int, str]:
        root = ROOTS.index(f.check_id) if f.check_id in ROOTS else len(ROOTS)
        return (-f.severity, f.check_id in after, root, f.check_id)

    ranked = sorted(above, key=rank)
    return ranked[0] if ranked else None
