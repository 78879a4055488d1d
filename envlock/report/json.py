"""JSON report: Report.to_dict, stable key order, one document on stdout."""

from __future__ import annotations

import json
from typing import TextIO

from envlock.findings import Report

# Indented for people up to this many findings; past it one compact document, which the C
# encoder writes ~10x faster than the indenting Python one (230,000 findings: 30 s -> 3 s).
INDENT_UP_TO = 2000


def render_json(report: Report, out: TextIO) -> None:
    doc = report.to_dict()
    if len(report.findings) <= INDENT_UP_TO:
        json.dump(doc, out, indent=2, default=str)
    else:
        out.write(json.dumps(doc, separators=(",", ":"), default=str))
    out.write("\n")
