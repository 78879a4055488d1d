"""usecases/imageprobe's pre-parser against the CLI's own: whatever argv it takes for a plain
`probe --image IMAGE --json`, argparse reads without a usage error, as `probe --json` of
the same Source (commands/_source.source_of), nothing else set: an abbreviation, an `=`
form, a value that looks like an option, a repeated option, another source or a
positional never slips through."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from envlock.commands._source import source_of
from envlock.usecases import imageprobe
from tests.fuzz.argparse_oracle import parsed
from tests.fuzz.test_fuzz import EXAMPLES, FUZZ

pytestmark = pytest.mark.fuzz

_TOKENS = [
    "--image", "img:1", "--image=img", "--image=", "--imag", "--json", "--js", "--json=1",
    "--no-torch-live", "--no-torch", "--no-pull", "--no-cache", "--gpus", "all", "0,1",
    "--gpus=device=0", "--shm-size", "1g", "--shm-size=64m", "--probe-timeout", "5", "2.5",
    "nan", "-1", "1e3", "soon", "--probe-timeout=7", "--python", "/usr/bin/python3",
    "--facts", "f.json", "--container", "box", "--collect-env", "-", "-q", "-h", "--", "x",
]  # fmt: skip


def _parsed(argv: list[str]) -> object | None:
    return parsed("probe", argv)


@settings(FUZZ, deadline=None, max_examples=max(EXAMPLES, 200))
@given(st.lists(st.sampled_from(_TOKENS), max_size=8))
@example(["--image", "img:1", "--json"])
@example(["--json", "--image=img", "--probe-timeout", "nan", "--gpus", "all"])
@example(["--gpus", "--no-pull", "--image", "img:1", "--json"])  # a value that is an option
def test_a_plain_image_probe_is_what_argparse_reads(tokens: list[str]) -> None:
    argv = ["probe", *tokens]
    given_options = imageprobe.plain_image_probe(argv)
    if given_options is None:
        return
    args = _parsed(argv)
    assert args is not None, "the fast path took argv the CLI refuses"
    assert getattr(args, "command", None) == "probe" and getattr(args, "json", False)
    assert not getattr(args, "quiet", False)
    fast, full = imageprobe._source(given_options), source_of(args)  # type: ignore[arg-type]
    assert repr(fast) == repr(full)  # repr: a nan timeout equals itself here
