"""`lock --hashes` never asks the index for envlock itself, under its distribution name
(torch-envlock, not on the index until released, and never installed by a restore) or
the name of its installs before the rename."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from envlock import DISTRIBUTION
from envlock.cli import main
from envlock.lock import read_lock
from tests.conftest import load_fixture_json
from tests.install.fakeindex import FakeIndex, project_of

VERSIONS = {"six": "1.17.0", "idna": "3.10", "torch": "2.13.0"}


@pytest.fixture
def index(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeIndex]:
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("ENVLOCK_INDEX_TIMEOUT", "20")
    fake = FakeIndex(versions=dict(VERSIONS))
    monkeypatch.setenv("PIP_INDEX_URL", fake.url)
    yield fake
    fake.close()


@pytest.mark.parametrize("name", [DISTRIBUTION, "envlock"])
def test_envlock_itself_is_not_hashed(
    name: str, index: FakeIndex, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = load_fixture_json("facts.cpu-venv-nodriver.json")
    data["torch"]["version"] = VERSIONS["torch"]
    data["packages"]["distributions"] = {**VERSIONS, name: "0.1.0"}
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps(data))
    out = tmp_path / "l.toml"
    code = main(["lock", "--facts", str(facts), "--hashes", "-o", str(out)])
    assert code == 0, capsys.readouterr().err
    lock = read_lock(out)
    assert name in lock.tools and sorted(lock.files) == ["idna", "six", "torch"]
    assert name not in {project_of(s) for s in index.seen}
