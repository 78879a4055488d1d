"""The family tests' setup: a recorded collect_env report (tests/fixtures/collect_env), with
some of its text swapped for another's, read as the doctor reads a paste, and the
EL-FAMILY-MISMATCH findings of its checks."""

from __future__ import annotations

from envlock.checks import run_checks
from envlock.facts import Facts
from envlock.findings import Finding
from envlock.pasted import facts_from_texts
from tests.conftest import FIXTURES

CE = FIXTURES / "collect_env"


def report(name: str, *swap: tuple[str, str]) -> Facts:
    """The report's Facts, each (old, new) of `swap` replaced first (old must be there)."""
    text = (CE / name).read_text()
    for old, new in swap:
        assert old in text, old
        text = text.replace(old, new)
    return facts_from_texts(collect_env=text)


def family(facts: Facts) -> list[Finding]:
    """The EL-FAMILY-MISMATCH findings of the doctor's checks over the facts."""
    return [f for f in run_checks(facts) if f.check_id == "EL-FAMILY-MISMATCH"]
