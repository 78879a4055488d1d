"""The probe limited to some sections (restore's verify of a new venv, explain): only those
sources run, here and under another interpreter, and the others are left out."""

from __future__ import annotations

import sys

from envlock.collect import probe_interpreter
from envlock.probe import SECTIONS, probe_host


def test_only_the_sections_asked_for_run() -> None:
    data = probe_host(torch_live=False, timeout=30, sections=("env", "system"))
    assert list(data) == ["facts_version", "meta", "system", "env"]
    assert set(data["meta"]["durations_ms"]) == {"system", "env", "total"}
    assert data["system"]["python"]["executable"]


def test_all_sections_by_default() -> None:
    data = probe_host(torch_live=False, timeout=30)
    assert list(data) == ["facts_version", "meta", *SECTIONS]


def test_sections_under_another_interpreter() -> None:
    facts = probe_interpreter(
        sys.executable, torch_live=False, timeout=60, sections=("system", "packages")
    )
    assert set(facts.meta.durations_ms) == {"system", "packages", "total"}
    assert facts.packages.distributions  # probed
    assert facts.toolchain.compilers == {}  # not probed: the default
    assert facts.driver.source is None and facts.driver.gpus is None
