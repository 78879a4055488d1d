"""The pasted-report parsers fuzzed: real collect_env / nvidia-smi / pip freeze text with
lines dropped, duplicated, cut and replaced by random text, and random bytes. Each parse
gives partial Facts or one FactsError line; the doctor and the Markdown report run on
whatever parses."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envlock.checks import run_checks
from envlock.errors import FactsError
from envlock.pasted import facts_from_texts, text_of
from tests.conftest import FIXTURES
from tests.fuzz.pastes import LINE_EDITS, edit_lines
from tests.fuzz.test_fuzz import EXAMPLES, FUZZ

pytestmark = pytest.mark.fuzz

# each example runs the parser, the doctor and the report: a fifth of the suite's count;
# 2 s an example (issue 19): a quadratic path fails here, not at a user's
PASTED = settings(FUZZ, deadline=None, max_examples=max(50, EXAMPLES // 5))
REPORTS = sorted((FIXTURES / "collect_env").glob("*.txt"))
SMI = sorted((FIXTURES / "nvidia_smi").glob("*.txt"))
FREEZE = sorted((FIXTURES / "pip_freeze").glob("*.txt"))


def _swap_colon(draw: st.DrawFn, lines: list[str], i: int) -> None:
    lines[i] = lines[i].replace(":", draw(st.sampled_from(["", " : ", "\uff1a", "::"])))


EDITS = {**LINE_EDITS, "swap-colon": _swap_colon}


@st.composite
def mangled(draw: st.DrawFn, files: list) -> str:  # type: ignore[type-arg]
    return edit_lines(draw, draw(st.sampled_from(files)).read_text().splitlines(), 6, EDITS)


def _parse(**texts: str) -> None:
    try:
        facts = facts_from_texts(**texts)
    except FactsError as exc:
        assert "\n" not in str(exc)
        return
    run_checks(facts)
    from envlock.api import bug_report
    from envlock.report.markdown import render_markdown

    doc = bug_report(facts=facts)
    meta = doc["envlock_report"]
    render_markdown(
        {"facts": doc, "doctor": meta["doctor"], "top": meta["top"], "anonymized": True},
        io.StringIO(),
    )


@PASTED
@given(mangled(REPORTS))
def test_mangled_collect_env(text: str) -> None:
    _parse(collect_env=text)


@PASTED
@given(mangled(SMI), mangled(FREEZE))
def test_mangled_nvidia_smi_and_pip_freeze(smi: str, freeze: str) -> None:
    _parse(nvidia_smi=smi)
    _parse(pip_freeze=freeze)


@PASTED
@given(st.binary(max_size=2048))
def test_random_bytes(data: bytes) -> None:
    try:
        text = text_of(data, "--collect-env x")
    except FactsError as exc:
        assert "\n" not in str(exc)
        return
    _parse(collect_env=text)
