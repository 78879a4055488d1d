"""warmverify's pre-parser against the CLI's own: whatever argv it takes for a plain
verify, argparse reads as `verify` of the same lock with no option that changes where the
facts come from, where the report goes, or whether a cache is used (an abbreviation, an
`=` form, a value that looks like an option, a second positional...)."""

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
    "--format", "json", "junit", "github", "text", "html", "--format=json", "--strict",
    "--str", "--scope", "software", "full", "--ignore", "EL-VERIFY-NOT-LOCKED", "--rule",
    "packages.*=warn", "--no-determinism", "--no-det", "--no-cache", "-o", "out.txt",
    "--output", "--python", "/usr/bin/python3", "--facts", "f.json", "--image", "img",
    "--distributed", "--probe-timeout", "5", "--no-torch-live", "-q", "-h", "--", "-",
    "a.toml", "b.toml", "-x", "--ignore=EL-X",
]  # fmt: skip


def _parsed(argv: list[str]) -> object | None:
    return parsed("verify", argv)


@settings(FUZZ, deadline=None, max_examples=max(EXAMPLES, 200))
@given(st.lists(st.sampled_from(_TOKENS), max_size=7))
def test_a_plain_verify_is_what_argparse_reads(tokens: list[str]) -> None:
    argv = ["verify", *tokens]
    lock = warmverify.lock_of(argv)
    if lock is None:
        return
    args = _parsed(argv)
    if args is None:  # a usage error: the full CLI says so (exit 2, never stored)
        return
    assert getattr(args, "command", None) == "verify"
    assert getattr(args, "lock", None) == lock
    assert getattr(args, "output", None) == "-"
    for off in ("no_cache", "distributed", "no_torch_live", "quiet", "smoke"):
        assert not getattr(args, off, False), off
    for absent in ("python", "facts", "image", "container"):
        assert getattr(args, absent, None) is None, absent
    assert getattr(args, "probe_timeout", None) == PROBE_TIMEOUT_S
