"""`envlock lock` and `api.write_lock` are one use case: the same facts and options give
the same file, byte for byte, but for the time it was made ([meta] created)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from envlock import api
from envlock.collect import Source
from tests.conftest import FIXTURES, run_envlock

FACTS = FIXTURES / "facts.cuda-venv+h100-driver-580-replayed.json"
PARTIAL = FIXTURES / "facts.image-python-by-digest.json"


def _timeless(text: str) -> str:
    """The lock without the moment it was written."""
    out, n = re.subn(r'(?m)^created = "[^"\n]*"$', 'created = "-"', text)
    assert n == 1, text
    return out


@pytest.mark.parametrize(
    ("facts", "cli", "options"),
    [
        (FACTS, [], {}),
        (FACTS, ["--scope", "software"], {"scope": "software"}),
        (PARTIAL, ["--allow-partial"], {"allow_partial": True}),
    ],
    ids=["full", "software", "partial"],
)
def test_the_cli_and_the_api_write_the_same_lock(
    facts: Path, cli: list[str], options: dict[str, object], tmp_path: Path
) -> None:
    path = tmp_path / "gpu.lock.toml"
    proc = run_envlock(["lock", "--facts", str(facts), *cli, "-o", str(path)])
    assert proc.returncode == 0, proc.stderr
    from_cli = path.read_text()
    path.unlink()
    api.write_lock(path, Source(facts_file=str(facts)), **options)  # type: ignore[arg-type]
    assert _timeless(path.read_text()) == _timeless(from_cli)
    assert f"# Regenerate: envlock lock -o {path}" in from_cli


def test_the_default_name_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    proc = run_envlock(["lock", "--facts", str(FACTS), "--scope", "software"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    from_cli = (tmp_path / "envlock.lock.toml").read_text()
    monkeypatch.chdir(tmp_path)
    lock = api.write_lock(source=Source(facts_file=str(FACTS)), scope="software")
    assert _timeless((tmp_path / "envlock.lock.toml").read_text()) == _timeless(from_cli)
    assert "# Regenerate: envlock lock --scope software\n" in from_cli
    assert lock.envlock.scope == "software"


def test_stdout_is_the_text_the_api_gives() -> None:
    proc = run_envlock(["lock", "--facts", str(FACTS), "-o", "-"])
    assert proc.returncode == 0, proc.stderr
    result = api.lock_file(None, Source(facts_file=str(FACTS)))
    assert result.path is None
    assert _timeless(proc.stdout) == _timeless(result.text)
    assert "# Regenerate: envlock lock -o -\n" in proc.stdout
