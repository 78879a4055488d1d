"""warmverify's pre-parser for the doctor against the CLI's own: whatever argv it takes for a
plain doctor, argparse reads as `doctor` with no option that changes where the facts come
from, where the report goes, whether a cache is used, or that makes it another command
(--plan, --list-checks): an abbreviation, an `=` form, a value that looks like an option,
a positional."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envlock.collect import PROBE_TIMEOUT_S
from envlock.usecases import warmverify
from tests.fuzz.argparse_oracle import parsed
from tests.fuzz.test_fuzz import EXAMPLES, FUZZ

pytestmark = pytest.mark.fuzz

_TOKENS = [
    "--format", "json", "junit", "github", "text", "html", "sarif", "--format=json",
    "--strict", "--str", "--ignore", "EL-SHM-SMALL", "--ignore=EL-X", "--expect", "bf16",
    "deterministic", "--exp", "--no-cache", "--no-c", "-o", "out.txt", "--output",
    "--python", "/usr/bin/python3", "--facts", "f.json", "--image", "img", "--container",
    "--plan", "Dockerfile", "--list-checks", "--facts-dir", "d", "--probe-timeout", "5",
    "--no-torch-live", "--no-probe-base", "-h", "--", "-", "x", "-x",
]  # fmt: skip


def _parsed(argv: list[str]) -> object | None:
    return parsed("doctor", argv)


@settings(FUZZ, deadline=None, max_examples=max(EXAMPLES, 200))
@given(st.lists(st.sampled_from(_TOKENS), max_size=7))
def test_a_plain_doctor_is_what_argparse_reads(tokens: list[str]) -> None:
    argv = ["doctor", *tokens]
    if not warmverify.plain_doctor(argv):
        return
    args = _parsed(argv)
    if args is None:  # a usage error: the full CLI says so (exit 2, never stored)
        return
    assert getattr(args, "command", None) == "doctor"
    assert getattr(args, "output", None) == "-"
    for off in ("no_cache", "list_checks", "no_torch_live"):
        assert not getattr(args, off, False), off
    for absent in ("python", "facts", "image", "container", "plan", "facts_dir"):
        assert not getattr(args, absent, None), absent
    assert getattr(args, "probe_timeout", None) == PROBE_TIMEOUT_S
