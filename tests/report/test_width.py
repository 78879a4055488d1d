"""Output that is not a terminal (CI logs, pipes) never loses a value to the screen width:
rich's default of 80 columns cut digests, versions and library paths with an ellipsis."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import FIXTURES, clean_env, run_envlock

LOCKED = FIXTURES / "facts.cpu-venv-nodriver.json"
CUDA = FIXTURES / "facts.cuda-venv-nodriver.json"
LONG_VERSION = "2.14.1+cu130.post20261127.git5c4886908584029761b579af026dcfb627c84070"


def _env(**extra: str) -> dict[str, str]:
    env = clean_env(**extra)
    if "COLUMNS" not in extra:
        env.pop("COLUMNS", None)
    env.pop("LINES", None)
    return env


def _drifted(tmp_path: Path) -> tuple[Path, Path]:
    """A lock of the CPU venv and facts of the CUDA venv with a long local version."""
    lock = tmp_path / "envlock.lock.toml"
    done = run_envlock(["lock", "--facts", str(LOCKED), "-o", str(lock)], env=_env())
    assert done.returncode == 0, done.stderr
    facts = json.loads(CUDA.read_text())
    facts["packages"]["distributions"]["torch"] = LONG_VERSION
    path = tmp_path / "facts.long.json"
    path.write_text(json.dumps(facts))
    return lock, path


def test_drift_table_in_a_pipe_keeps_every_value(tmp_path: Path) -> None:
    lock, facts = _drifted(tmp_path)
    done = run_envlock(["verify", str(lock), "--facts", str(facts)], env=_env())
    assert done.returncode == 1, done.stderr
    out = done.stdout
    assert "…" not in out
    for value in (
        LONG_VERSION,
        "2.14.1+cu130",
        "cf30153c4c131c8164ee7798e5022d810682e2cb",  # torch git versions, locked and seen
        "5c4886908584029761b579af026dcfb627c84070",
    ):
        assert value in out, value
    # one torch change, one finding: what changed with it is a line each, locked -> seen
    assert any("packages.torch" in ln and LONG_VERSION in ln for ln in out.splitlines())


def test_probe_table_in_a_pipe_keeps_library_paths() -> None:
    done = run_envlock(["probe", "--facts", str(CUDA)], env=_env())
    assert done.returncode == 0, done.stderr
    assert "…" not in done.stdout
    live = json.loads(CUDA.read_text())["torch"]["live"]
    paths = [lib["path"] for lib in live["loaded_libraries"]]
    assert paths and all(len(p) > 80 for p in paths[:1])
    for p in paths:
        assert p in done.stdout, p


def test_columns_is_a_width_that_folds_but_never_cuts(tmp_path: Path) -> None:
    lock, facts = _drifted(tmp_path)
    done = run_envlock(["verify", str(lock), "--facts", str(facts)], env=_env(COLUMNS="100"))
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    assert max(len(ln) for ln in lines) <= 100
    assert "…" not in done.stdout
    # each folded row, its cells read top to bottom, holds the whole values
    rows: list[list[str]] = []
    for ln in lines:
        cells = ln.split("│")[1:-1]
        if len(cells) != 7:  # mark, ID, field, locked, observed, why, fix
            continue
        if cells[0].strip():  # a row starts with its severity mark
            rows.append(["" for _ in cells])
        for i, cell in enumerate(cells):
            rows[-1][i] += cell.strip()
    by_field = {row[2]: row for row in rows}
    assert by_field["torch.version"][1] == "EL-VERIFY-DRIFT"
    assert by_field["torch.version"][4] == "2.14.1+cu130"
    # what changed with torch, under the table: whole values, folded at the width
    text = " ".join(lines)
    assert "torch.git-version: cf30153c4c131c8164ee7798e5022d810682e2cb -> " in text
    assert "5c4886908584029761b579af026dcfb627c84070" in text
    assert LONG_VERSION in text
