"""verify's text output (issue 21 item 7): the drift table names each finding's ID and
fix, offers `envlock restore` where a reinstall is the fix, a package the lock never held
is not "a locked package changed version", and one torch change is one finding.

Recorded facts: the torch 2.13.0 CPU venv's lock, verified against the torch 2.14.1
cu130 venv's facts (another torch build and its CUDA wheels)."""

from __future__ import annotations

import io
from pathlib import Path

from envlock.api import verify_lock
from envlock.facts import Facts
from envlock.lock import build_lock
from envlock.lock.io import dumps_lock
from envlock.report import render
from tests.facts_builders import cpu_venv, cuda_venv

TORCH_FIELDS = ("torch.", "packages.torch", "packages.nvidia-", "packages.triton")


def _with_package(facts: Facts, name: str, version: str) -> Facts:
    data = facts.to_dict()
    data["packages"]["distributions"][name] = version
    return Facts.from_dict(data)


def test_one_torch_change_is_one_finding() -> None:
    lock = build_lock(cpu_venv())
    report = verify_lock(lock, facts=cuda_venv(), determinism=False)
    torch = [f for f in report.findings if (f.field or "").startswith(TORCH_FIELDS)]
    assert len(torch) == 1, [f.field for f in torch]
    (f,) = torch
    assert f.field == "torch.version" and f.check_id == "EL-VERIFY-DRIFT"
    changed = f.evidence["changed with torch"]
    assert any(c.startswith("torch.variant: cpu -> cu130") for c in changed), changed
    assert any(c.startswith("packages.nvidia-") for c in changed), changed


def test_a_package_the_lock_never_held_is_not_a_changed_locked_package() -> None:
    lock = build_lock(cpu_venv())
    facts = _with_package(cpu_venv(), "leftpad", "1.0")
    report = verify_lock(lock, facts=facts, determinism=False)
    (f,) = [f for f in report.findings if f.field == "packages.leftpad"]
    assert f.check_id == "EL-VERIFY-NOT-LOCKED"
    assert f.why is not None and "locked package changed" not in f.why
    assert "not in the lock" in f.why


def test_drift_table_shows_id_and_fix_and_offers_restore(tmp_path: Path) -> None:
    path = tmp_path / "envlock.lock.toml"
    path.write_text(dumps_lock(build_lock(cpu_venv())))
    facts = _with_package(cuda_venv(), "leftpad", "1.0")
    report = verify_lock(path, facts=facts, determinism=False)
    out = io.StringIO()
    render(report, "text", out)
    text = out.getvalue()
    assert "EL-VERIFY-DRIFT" in text and "EL-VERIFY-NOT-LOCKED" in text
    assert "pip install" in text  # the torch finding's fix, in its row
    assert "more changed with it" in text  # counted in its row, listed under the table
    assert "torch.variant: cpu -> cu130" in text
    assert f"envlock restore {path}" in text
    assert "a locked package changed version" not in text
    # a Lock object has no file to restore from: no restore line
    out = io.StringIO()
    render(verify_lock(build_lock(cpu_venv()), facts=facts, determinism=False), "text", out)
    assert "envlock restore" not in out.getvalue()
