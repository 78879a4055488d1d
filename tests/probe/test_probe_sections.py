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


def test_a_probe_without_the_torch_section_imports_nothing_of_torchs() -> None:
    """`explain 137` probes only `system`: torch_info (and the distributions it reads) are
    not imported for a torch child that is not wanted."""
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import sys\n"
        "from envlock.probe import probe_host\n"
        "probe_host(torch_live=False, timeout=30, sections=('system',))\n"
        "print(sorted(m for m in sys.modules if m.startswith('envlock.probe.')))\n"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root
    )
    loaded = out.stdout.strip()
    assert "torch_info" not in loaded and "_dists" not in loaded, loaded
