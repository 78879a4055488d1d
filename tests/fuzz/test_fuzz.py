"""Property-based fuzzing of the entry points the CLI uses (issue 11): lock parsing, facts
parsing, the doctor / lock / verify pipeline over any facts, and every renderer.

Inputs are random structures and mutations of real locks and facts (the recorded
fixtures). Properties: parsing ends in a typed object or in its own one-line error
(LockError / FactsError), never another exception; the pipeline over any Facts that
parse does not raise; JSON output parses, JUnit output is well-formed XML, GitHub
annotations are one line each, text output renders. The number of cases per test is
FUZZ_EXAMPLES (default 1,500 at the full depth, CI=true or ENVLOCK_TEST_FULL=1, where 7
tests give > 10,000 per run; a small count in a local run: tests/conftest.py). Inputs that
once failed are pinned with @example.
"""

from __future__ import annotations

import copy
import io
import json
import xml.etree.ElementTree as ET
from functools import cache
from typing import Any

import pytest
import tomli_w
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from envlock.checks import run_checks
from envlock.details import VerifyDetails
from envlock.errors import FactsError, LockError
from envlock.facts import Facts
from envlock.findings import Report
from envlock.lock import build_lock, dumps_lock, loads_lock
from envlock.report import FORMATS, render
from envlock.verify import verify
from tests.conftest import FUZZ_EXAMPLES, IN_CI, load_fixture_json

pytestmark = pytest.mark.fuzz

# Cases per test: the suite's depth (tests/conftest.py): FUZZ_EXAMPLES when set; else the
# full depth under CI=true or ENVLOCK_TEST_FULL=1 (1,500: over 10,000 a run), and a quick
# local run (the suite's default run stays within minutes).
EXAMPLES = FUZZ_EXAMPLES
FUZZ = settings(
    max_examples=EXAMPLES,
    # 2 s of CPU per example (tests/fuzz/cpubound.py, applied by tests/fuzz/conftest.py): a
    # quadratic path on hostile input fails the suite, not a user; no wall-clock deadline,
    # which a loaded machine trips on a 1 ms example
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=IN_CI,  # CI: reproducible runs
)

# Text that reaches renderers: markup-like, control characters, escapes, odd unicode.
nasty_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "[/x]",
            "[bold]",
            "[link=https://evil.example]x[/link]",
            "\x1b[31mred\x1b[0m",
            "a\x00b",
            "\udcff",
            "\u202e",
            "]]>",
            "<![CDATA[",
            "\r\n",
            "::error::",
            "%0A",
            "9" * 5000,
            "\u0661",
        ]
    ),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    nasty_text,
)
trees = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(nasty_text, inner, max_size=4)
    ),
    max_leaves=20,
)


@cache
def _real_facts() -> list[dict[str, Any]]:
    names = ["facts.cuda-venv-nodriver.json", "facts.image-python-by-digest.json"]
    return [load_fixture_json(n) for n in names]


@cache
def _real_lock() -> dict[str, Any]:
    facts = Facts.from_dict(_real_facts()[0])
    return build_lock(facts, created="2026-01-01T00:00:00Z").to_dict()


def _paths(tree: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(tree, dict):
        for k, v in tree.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(tree, list):
        for i, v in enumerate(tree):
            out += _paths(v, (*prefix, i))
    return out


@st.composite
def mutated(draw: st.DrawFn, base: Any) -> Any:
    """`base` with one to three places replaced by random values or removed."""
    doc = copy.deepcopy(base)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        paths = [p for p in _paths(doc) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        if draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(trees)
    return doc


def _toml_or_none(doc: Any) -> str | None:
    try:
        return tomli_w.dumps(doc)
    except (TypeError, ValueError):  # not representable in TOML (None, NaN keys, ...)
        return None


def _check_renderers(report: Report) -> None:
    for fmt in FORMATS:
        out = io.StringIO()
        render(report, fmt, out)
        text = out.getvalue()
        if fmt == "json":
            json.loads(text)
        elif fmt == "junit":
            ET.fromstring(text.split("\n", 1)[1])
        elif fmt == "github":
            for line in text.splitlines():
                assert line.startswith("::") or not line.strip() or line.startswith("envlock"), line
        elif fmt == "html":  # untrusted text never becomes markup: only the page's own tags
            assert text.startswith("<!DOCTYPE html>") and text.count("<script") in (0, 2)
            assert "<img" not in text and text.count("<body") == 1


def _pipeline(facts: Facts) -> None:
    from envlock.report.facts_table import render_facts

    render_facts(facts, io.StringIO())
    findings = run_checks(facts)
    _check_renderers(Report(command="doctor", target=facts.meta.target, findings=findings))
    lock = build_lock(facts)
    text = dumps_lock(lock)
    again = loads_lock(text)
    _check_renderers(Report(command="verify", target="fuzz", findings=verify(again, facts)))


# ------------------------------------------------------------------ locks
@FUZZ
@given(st.dictionaries(nasty_text, trees, max_size=6))
def test_random_lock_documents(doc: dict[str, Any]) -> None:
    text = _toml_or_none(doc)
    if text is None:
        return
    try:
        loads_lock(text)
    except LockError as exc:
        assert "\n" not in str(exc)


@FUZZ
@given(st.data())
def test_mutated_real_locks_parse_or_fail_cleanly_and_verify(data: st.DataObject) -> None:
    doc = data.draw(mutated(_real_lock()))
    text = _toml_or_none(doc)
    if text is None:
        return
    try:
        lock = loads_lock(text)
    except LockError as exc:
        assert "\n" not in str(exc)
        return
    facts = Facts.from_dict(_real_facts()[0])
    findings = verify(lock, facts)
    _check_renderers(Report(command="verify", target="fuzz", findings=findings))


# ------------------------------------------------------------------ facts
@FUZZ
@given(trees)
def test_random_facts_documents(doc: Any) -> None:
    try:
        Facts.from_dict(doc)
    except FactsError as exc:
        assert "\n" not in str(exc)


@FUZZ
@given(st.data())
def test_mutated_real_facts_run_the_whole_pipeline(data: st.DataObject) -> None:
    base = data.draw(st.sampled_from(_real_facts()))
    doc = data.draw(mutated(base))
    try:
        facts = Facts.from_dict(doc)
    except FactsError:
        return
    _pipeline(facts)


@FUZZ
@given(st.dictionaries(st.text(max_size=30), nasty_text, max_size=6))
@example({"VISIBLE_DEVICES": "9" * 5000})  # int() of > 4,300 digits raised ValueError
def test_any_environment_values_lock_and_render(variables: dict[str, str]) -> None:
    doc = copy.deepcopy(_real_facts()[0])
    doc["env"]["variables"] = {f"CUDA_{k}": v for k, v in variables.items()}
    _pipeline(Facts.from_dict(doc))


@FUZZ
@given(st.lists(nasty_text, max_size=5), st.lists(nasty_text, max_size=3))
@example([], ["sm_" + "9" * 5000])  # the same, in the arch-flag parser
@example([], ["[/x]", "\udcff"])  # markup and a lone surrogate crashed the text and JUnit output
def test_any_package_names_and_arch_flags(names: list[str], flags: list[str]) -> None:
    doc = copy.deepcopy(_real_facts()[0])
    doc["packages"]["distributions"] = {n: n[::-1] for n in names}
    if doc["torch"].get("live"):
        doc["torch"]["live"]["arch_flags"] = flags
    _pipeline(Facts.from_dict(doc))


@FUZZ
@given(nasty_text, nasty_text, nasty_text)
@example("x", "", "\u20280")  # U+2028 split a GitHub annotation line in two
def test_findings_with_any_text_render_in_every_format(message: str, fix: str, field: str) -> None:
    from envlock.findings import Finding, Severity

    f = Finding(
        check_id="EL-VERIFY-DRIFT",
        severity=Severity.ERROR,
        message=message,
        fix=fix,
        field=field,
        locked=message,
        observed=fix,
        why=field,
    )
    _check_renderers(
        Report(
            command="verify",
            target=field,
            findings=[f],
            details=VerifyDetails(lock="envlock.lock.toml", scope="full", passed=(message,)),
        )
    )
