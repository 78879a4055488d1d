"""A Report shows itself in Jupyter as envlock's HTML report (issue 22 item 9b), as
env-doctor's results do: `_repr_html_`, the page `--format html` writes, in a sandboxed
frame so that its stylesheet cannot restyle the notebook around it."""

from __future__ import annotations

import io
import subprocess
import sys
from html.parser import HTMLParser

import pytest

import envlock
from envlock.facts import Facts
from envlock.findings import Report
from envlock.report.html import render_html
from tests.conftest import FIXTURES, clean_env

CUDA = FIXTURES / "facts.cuda-venv-nodriver.json"  # a CUDA build without a driver: errors


class _Frames(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.frames: list[dict[str, str | None]] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "iframe":
            self.frames.append(dict(attrs))


def _doctor() -> Report:
    report = envlock.doctor(facts=Facts.from_json(CUDA.read_text()))
    assert report.findings  # a report with something to show
    return report


def _page(report: Report) -> str:
    out = io.StringIO()
    render_html(report, out)
    return out.getvalue()


def test_repr_html_is_the_html_renderers_page_in_a_sandboxed_frame() -> None:
    report = _doctor()
    shown = report._repr_html_()
    parsed = _Frames()
    parsed.feed(shown)
    # one frame and nothing else: no <style> or <script> reaches the notebook's page
    assert parsed.tags == ["iframe"], parsed.tags
    (frame,) = parsed.frames
    assert frame["srcdoc"] == _page(report)  # the attribute, unescaped, is the whole page
    assert frame["sandbox"] == "allow-scripts"  # the fleet matrix sorts; no same-origin
    for f in report.findings:
        assert f.check_id in (frame["srcdoc"] or "")


def test_jupyter_uses_it() -> None:
    """IPython's own HTML formatter (what a notebook calls) finds and uses it."""
    formatters = pytest.importorskip("IPython.core.formatters")
    report = _doctor()
    assert formatters.HTMLFormatter()(report) == report._repr_html_()


def test_a_hostile_value_stays_inside_the_frame() -> None:
    """A value that closes the attribute or the frame is escaped twice over: once by the
    renderer in the page, once as the attribute's text."""
    report = Report(command="doctor", target='"></iframe><script>alert(1)</script>')
    shown = report._repr_html_()
    parsed = _Frames()
    parsed.feed(shown)
    assert parsed.tags == ["iframe"]
    assert parsed.frames[0]["srcdoc"] == _page(report)


def test_the_model_loads_no_renderer_until_a_report_is_shown() -> None:
    """The HTML renderer is the model's one upward import (test_architecture's
    DISPLAY_HOOK): it must stay inside _repr_html_, loaded on first display."""
    code = (
        "import sys, envlock.findings as f; assert 'envlock.report.html' not in sys.modules; "
        "f.Report(command='doctor', target='host')._repr_html_(); "
        "assert 'envlock.report.html' in sys.modules"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=clean_env(), capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
