"""report/printer.py: off a terminal a report's lines are printed as rich prints them, and
rich (35-110 ms to import) is not loaded for them; a table or a terminal still gets rich."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

import pytest

from envlock import api
from envlock.facts import Facts
from envlock.findings import Finding, Report, Severity
from envlock.lock import build_lock
from envlock.report import printer, render
from envlock.report.printer import Line, Printer
from tests.facts_builders import cpu_venv, cuda_venv, edit, h100_host

ROOT = Path(__file__).resolve().parents[2]


def _both(render_to: Callable[[TextIO], None], monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """What `render_to` prints off a terminal, and what rich alone printed there."""
    ours = io.StringIO()
    render_to(ours)
    with monkeypatch.context() as m:
        m.setattr(printer, "_rich_only", lambda out: True)
        theirs = io.StringIO()
        render_to(theirs)
    return ours.getvalue(), theirs.getvalue()


def _doctor(facts: Facts) -> Report:
    return api.doctor(facts=facts)


def _verify_drift() -> Report:
    lock = build_lock(cuda_venv())
    return api.verify_lock(lock, facts=edit(cuda_venv(), "torch.version", "2.14.0+cu130"))


def _hostile() -> Report:
    evidence: dict[str, object] = {"tab\there": "a\tb", "esc": "\x1b[31mred", "long": "x" * 600}
    return Report(
        command="doctor",
        target="host\twith a tab",
        findings=[
            Finding(
                check_id="EL-ARCH-PTX-ONLY",
                severity=Severity.WARNING,
                message="line one\nline two   \n\n  indented\r",
                evidence=evidence,
                fix="wide \uff37\uff29\uff24\uff25 text, [bold]no markup[/bold] :smile:",
            )
        ],
    )


REPORTS: dict[str, Callable[[], Report]] = {
    "doctor cpu venv": lambda: _doctor(cpu_venv()),
    "doctor cuda venv": lambda: _doctor(cuda_venv()),
    "doctor h100": lambda: _doctor(h100_host()),
    "verify drift (a table)": _verify_drift,
    "hostile text": _hostile,
}


@pytest.mark.parametrize("name", sorted(REPORTS))
@pytest.mark.parametrize("columns", [None, "40"])
def test_text_report_is_what_rich_prints(
    name: str, columns: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    report = REPORTS[name]()
    ours, theirs = _both(lambda out: render(report, "text", out), monkeypatch)
    assert ours == theirs
    assert ours.startswith(("PASS", "FAIL", "PARTIAL"))


@pytest.mark.parametrize("text", ["137", "CUDA error: no kernel image is available", "nothing"])
def test_explain_text_is_what_rich_prints(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    report = api.explain(text, facts_source(), checks=True)
    ours, theirs = _both(lambda out: render_explain(report, out), monkeypatch)
    assert ours == theirs


def facts_source() -> api.Source:
    return api.Source(facts_file=str(ROOT / "tests/fixtures/facts.cuda-venv-nodriver.json"))


def render_explain(report: Report, out: TextIO) -> None:
    from envlock.report.explain import render_explain_text

    render_explain_text(report, out)


def test_forced_colour_and_terminals_are_left_to_rich(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    out = io.StringIO()
    Printer(out).print(Line("x", style="bold"))
    assert "\x1b[" in out.getvalue()  # rich's colour, as before
    monkeypatch.delenv("FORCE_COLOR")

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty = Tty()
    Printer(tty).print(Line("y", style="bold"))
    assert "\x1b[" in tty.getvalue()


def test_a_report_off_a_terminal_loads_no_rich() -> None:
    code = (
        "import io, sys\n"
        "from envlock import api\n"
        "from envlock.report import render\n"
        "from envlock.report.explain import render_explain_text\n"
        "from tests.facts_builders import cuda_venv\n"
        "out = io.StringIO()\n"
        "render(api.doctor(facts=cuda_venv()), 'text', out)\n"
        "render_explain_text(api.explain('137', checks=False), out)\n"
        "assert out.getvalue().startswith('FAIL'), out.getvalue()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'rich'))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert proc.stdout.strip() == "[]"
