"""`envlock probe`'s tables (report/facts_table.py): off a terminal they are printed
without rich exactly as rich prints them, from the facts document, so this host's probe
loads neither rich nor the Facts model; where rich would change them, rich prints them."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from envlock.facts import Facts, load_json
from envlock.report import facts_table
from tests.conftest import REPO, clean_env
from tests.lock.facts_fixtures import rich_facts

FIXTURES = sorted((REPO / "tests" / "fixtures").glob("facts.*.json"))


def _both(facts: Facts, target: str | None = None) -> tuple[str, str]:
    out, by_rich = io.StringIO(), io.StringIO()
    facts_table.render_facts(facts, out, target=target)
    facts_table.rich_render(*facts_table.contents(facts, target), by_rich)
    return out.getvalue(), by_rich.getvalue()


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_each_recorded_machine_prints_as_rich_prints_it(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    facts = Facts.from_dict(load_json(path.read_text()))
    plain, by_rich = _both(facts, target=None)
    assert plain == by_rich
    # and from the document itself, as this host's probe gives it
    out = io.StringIO()
    facts_table.render_facts(facts.to_dict(), out)  # type: ignore[arg-type]
    assert out.getvalue() == plain
    _, tables = facts_table.contents(facts)
    assert facts_table._plain_lines("t", tables, io.StringIO()) is not None


def test_the_gpu_table_and_a_facts_file_label(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    plain, by_rich = _both(rich_facts(), target="facts:node7.json")
    assert plain == by_rich
    assert "┃ # ┃ name" in plain and "(recorded on: host)" in plain


@pytest.mark.parametrize("why", ["columns", "wide", "control", "ascii-stream"], ids=lambda w: w)
def test_what_rich_would_change_is_left_to_rich(why: str, monkeypatch: pytest.MonkeyPatch) -> None:
    facts = rich_facts()
    doc = facts.to_dict()
    monkeypatch.delenv("COLUMNS", raising=False)
    out: io.StringIO | io.TextIOWrapper = io.StringIO()
    if why == "columns":
        monkeypatch.setenv("COLUMNS", "60")  # rich folds the long paths
    elif why == "wide":
        doc["env"]["variables"]["NAME"] = "\uff27\uff30\uff35 \u7bc0\u70b9"  # type: ignore[index]
    elif why == "control":
        doc["env"]["variables"]["NAME"] = "a\tb"  # type: ignore[index]
    else:
        out = io.TextIOWrapper(io.BytesIO(), encoding="ascii", errors="replace")
    _, tables = facts_table.contents(doc)  # type: ignore[arg-type]
    assert facts_table._plain_lines("t", tables, out) is None
    a, b = io.StringIO(), io.StringIO()
    facts_table.render_facts(doc, a)  # type: ignore[arg-type]
    facts_table.rich_render(*facts_table.contents(doc), b)  # type: ignore[arg-type]
    assert a.getvalue() == b.getvalue()


_CHECK = """
import sys
from envlock.cli import main
code = main(["probe", "--no-torch-live"])
loaded = sorted(m for m in ("rich", "envlock.facts", "dataclasses") if m in sys.modules)
sys.stderr.write("LOADED " + ",".join(loaded) + "\\n")
sys.exit(code)
"""


def test_a_piped_probe_loads_neither_rich_nor_the_facts_model(tmp_path: Path) -> None:
    env = clean_env(ENVLOCK_CACHE_DIR=str(tmp_path / "cache"))
    env.pop("COLUMNS", None)  # a width rich would fold the paths to
    env.pop("FORCE_COLOR", None)
    env.pop("TTY_COMPATIBLE", None)
    proc = subprocess.run(
        [sys.executable, "-c", _CHECK], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("envlock probe: ")
    assert "\nsystem\n" in proc.stdout and "\ncuda\n" in proc.stdout
    (line,) = [x for x in proc.stderr.splitlines() if x.startswith("LOADED ")]
    assert line == "LOADED "
