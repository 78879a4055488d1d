"""JSON report: Report.to_dict, stable key order, one document on stdout."""

from __future__ import annotations

import json
from typing import TextIO

from envlock.findings import Report


def render_json(report: Report, out: TextIO) -> None:
    json.dump(report.to_dict(), out, indent=2, default=str)
    out.write("\n")
