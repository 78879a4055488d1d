"""The CLI as users run it, fuzzed in-process: `doctor --facts`, `verify LOCK --facts`,
`lock --facts -o -` and `fleet report DIR` over mutated real facts and locks, in every
format. Exit codes stay in {0, 1, 2, 3}; no traceback; exit 3 is one line; JSON parses.
The exit-code histogram of a run is written to $FUZZ_REPORT when set (the CI note quotes it).
"""

from __future__ import annotations

import atexit
import contextlib
import io
import json
import os
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from hypothesis import given, settings
from hypothesis import strategies as st

from envlock.cli import main
from tests.fuzz.test_fuzz import EXAMPLES, FUZZ, _real_facts, _real_lock, mutated

pytestmark = pytest.mark.fuzz

HISTOGRAM: Counter[str] = Counter()


def _write_histogram() -> None:
    path = os.environ.get("FUZZ_REPORT")
    if path and HISTOGRAM:
        Path(path).write_text(json.dumps(dict(sorted(HISTOGRAM.items())), indent=1) + "\n")


atexit.register(_write_histogram)


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    HISTOGRAM[f"{argv[0]} exit {code}"] += 1
    return code, out.getvalue(), err.getvalue()


def _check(argv: list[str], fmt: str) -> None:
    code, out, err = _run(argv)
    assert code in (0, 1, 2, 3), (argv, code, err)
    assert "Traceback" not in err, err
    if code == 3:
        assert err.strip().count("\n") == 0, err
    if fmt == "json" and code in (0, 1):
        json.loads(out)


def _dump_json(doc: Any, path: Path) -> None:
    try:
        path.write_text(json.dumps(doc), encoding="utf-8", errors="surrogatepass")
    except (TypeError, ValueError):
        path.write_text("{}")


@settings(FUZZ, max_examples=max(EXAMPLES // 3, 1))  # four CLI runs per example
@given(st.data(), st.sampled_from(["text", "json", "junit", "github"]))
def test_cli_over_mutated_facts_and_locks(data: st.DataObject, fmt: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        facts = d / "facts.json"
        _dump_json(data.draw(mutated(data.draw(st.sampled_from(_real_facts())))), facts)
        lock = d / "envlock.lock.toml"
        try:
            lock.write_text(tomli_w.dumps(data.draw(mutated(_real_lock()))))
        except (TypeError, ValueError):
            lock.write_text("[envlock]\nlock-version = '1.0'\n")
        _check(["doctor", "--facts", str(facts), "--format", fmt], fmt)
        _check(["verify", str(lock), "--facts", str(facts), "--format", fmt], fmt)
        _check(["lock", "--facts", str(facts), "-o", "-"], "text")
        nodes = d / "nodes"
        nodes.mkdir()
        (nodes / "a.json").write_text(facts.read_text(errors="surrogateescape"))
        _dump_json(_real_facts()[0], nodes / "b.json")
        _check(["fleet", "report", str(nodes), "--lock", str(lock), "--format", fmt], fmt)
