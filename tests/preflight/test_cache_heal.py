"""A live-facts cache entry that no longer parses is dropped and refilled, never a failure
of every later verify (CPU venv, real torch child)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import clean_env, run_envlock

pytestmark = pytest.mark.venv


@pytest.mark.slow
def test_an_invalid_cache_entry_is_replaced(cpu_python: Path, tmp_path: Path) -> None:
    env = clean_env(ENVLOCK_CACHE_DIR=str(tmp_path / "cache"))
    lock = tmp_path / "envlock.lock.toml"
    assert run_envlock(["lock", "-o", str(lock)], python=cpu_python, env=env).returncode == 0
    first = run_envlock(["verify", str(lock), "--format", "json"], python=cpu_python, env=env)
    assert first.returncode == 0, first.stdout
    (entry,) = (tmp_path / "cache").rglob("torch-live-*.json")  # beside extensions-v1.json
    doc = json.loads(entry.read_text())
    doc["live"]["cudnn_version"] = ["not", "a", "version"]  # valid JSON, wrong type
    entry.write_text(json.dumps(doc))
    healed = run_envlock(["verify", str(lock), "--format", "json"], python=cpu_python, env=env)
    assert healed.returncode == 0, (healed.stdout, healed.stderr)
    notes = json.loads(healed.stdout)["details"]["probe_notes"]
    assert any("cache entry was invalid" in n for n in notes), notes
    assert json.loads(entry.read_text())["live"]["cudnn_version"] != ["not", "a", "version"]
