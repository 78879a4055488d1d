"""Renderers: they only format a Report; they decide nothing."""

from __future__ import annotations

import sys

from envlock.errors import UsageError

# typing (~2-3 ms) is no import of a replayed restore's progress (report/progress.py);
# `from envlock.report import FORMATS` loads no Report model
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TextIO

    from envlock.findings import Report

FORMATS = ("text", "json", "junit", "github", "html")


def render(report: Report, fmt: str = "text", file: TextIO | None = None) -> None:
    out = file if file is not None else sys.stdout
    if fmt == "json":
        from envlock.report.json import render_json

        render_json(report, out)
    elif fmt == "text":
        from envlock.report.text import render_text

        render_text(report, out)
    elif fmt == "junit":
        from envlock.report.junit import render_junit

        render_junit(report, out)
    elif fmt == "github":
        from envlock.report.github import render_github

        render_github(report, out)
    elif fmt == "html":
        from envlock.report.html import render_html

        render_html(report, out)
    else:
        raise UsageError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
