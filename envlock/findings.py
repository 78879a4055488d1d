"""Findings: the one result type of checks, verify and fleet; renderers only format them."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

from envlock.details import (
    Details,
    DeterminismDetails,
    DistributedDetails,
    DoctorDetails,
    ExplainDetails,
    ExplanationItem,
    FleetDetails,
    ReportDetails,
    VerifyDetails,
)
from envlock.severity import Severity

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

# the details classes are Report's: importable from here too
__all__ = [
    "Details",
    "DeterminismDetails",
    "DistributedDetails",
    "DoctorDetails",
    "ExplainDetails",
    "ExplanationItem",
    "Finding",
    "FleetDetails",
    "Report",
    "ReportDetails",
    "Severity",
    "VerifyDetails",
]


@dataclass(frozen=True, kw_only=True, slots=True)
class Finding:
    check_id: str  # stable, e.g. EL-DRIVER-TOO-OLD; users --ignore it
    severity: Severity
    message: str
    fix: str | None = None
    evidence: dict[str, object] = field(default_factory=dict)  # the facts it used
    field: str | None = None  # verify: the dotted lock field
    locked: object = None  # verify: the value in the lock
    observed: object = None  # verify: the value now
    why: str | None = None  # verify: why the field matters

    def __post_init__(self) -> None:
        from envlock.catalog import KINDS  # every ID is registered there (loaded when used)

        if self.check_id not in KINDS:
            raise ValueError(f"finding ID {self.check_id} is not in envlock/catalog.py")

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "id": self.check_id,
            "severity": self.severity.label,
            "message": self.message,
        }
        if self.fix is not None:
            out["fix"] = self.fix
        if self.evidence:
            out["evidence"] = self.evidence
        if self.field is not None:
            out["field"] = self.field
            out["locked"] = self.locked
            out["observed"] = self.observed
            if self.why is not None:
                out["why"] = self.why
        return out


@dataclass(frozen=True, kw_only=True, slots=True)
class Report:
    """Findings of one command plus what they were about."""

    command: str  # doctor, verify, ...
    target: str  # host, image:NAME, facts:FILE
    findings: list[Finding] = field(default_factory=list)
    strict: bool = False
    details: Details | None = None  # what the command adds: one class per command (details.py)

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity is severity)

    @property
    def failed(self) -> bool:
        worst = Severity.WARNING if self.strict else Severity.ERROR
        return any(f.severity >= worst for f in self.findings)

    def with_details(self, **changes: object) -> Report:
        """This Report, its details changed (restore adds the lock's path and the venv's fate
        to verify's)."""
        if self.details is None:
            raise ValueError(f"envlock {self.command}'s report has no details to change")
        # replace() keeps the class; typed as any dataclass, as the fields vary by class
        details: DataclassInstance = self.details
        changed = cast(Details, dataclasses.replace(details, **changes))
        return dataclasses.replace(self, details=changed)

    def sorted_findings(self) -> list[Finding]:
        return sorted(self.findings, key=lambda f: (-f.severity, f.check_id, f.field or ""))

    def _repr_html_(self) -> str:
        """How Jupyter shows a Report: the page of `--format html`, in a frame. The page
        brings its own stylesheet (it would restyle the notebook) and its Content Security
        Policy (it applies inside the frame only); sandboxed, its script sorts the fleet
        matrix but reaches nothing of the notebook."""
        import html
        import io

        # Presentation, the one upward import of the model (tests/test_architecture.py):
        # loaded when a notebook first shows a Report.
        from envlock.report.html import render_html

        page = io.StringIO()
        render_html(self, page)
        return (
            '<iframe sandbox="allow-scripts" title="envlock report" style="width:100%;'
            'height:32em;border:1px solid #d0d7de;resize:vertical" '
            f'srcdoc="{html.escape(page.getvalue(), quote=True)}"></iframe>'
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "command": self.command,
            "target": self.target,
            "verdict": "fail" if self.failed else "pass",
            "strict": self.strict,
            "summary": {
                s.label: self.count(s) for s in (Severity.ERROR, Severity.WARNING, Severity.INFO)
            },
            "findings": [f.to_dict() for f in self.sorted_findings()],
            **({"details": self.details.to_dict()} if self.details is not None else {}),
        }
