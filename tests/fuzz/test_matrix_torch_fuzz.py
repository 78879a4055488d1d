"""`envlock matrix --torch` and the official-wheel test fuzzed (issue 21 items 1-3): any
--torch text is an answer about one release or one usage line, never an exception; any
torch version and conda build string says whether it is the official wheel, and the arch
check over facts with such a torch ends in findings, within the 2 s of CPU per example (cpubound.py)."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envlock import api
from envlock.checks import run_checks
from envlock.errors import UsageError
from envlock.matrix.builds import not_the_official_wheel
from tests.facts_builders import edit, h100_host
from tests.fuzz.test_fuzz import EXAMPLES, FUZZ

pytestmark = pytest.mark.fuzz

TORCH_FUZZ = settings(FUZZ, deadline=None, max_examples=max(30, EXAMPLES // 3))
CHECK_FUZZ = settings(FUZZ, deadline=None, max_examples=max(15, EXAMPLES // 10))

_PIECES = st.sampled_from(
    [
        "1",
        "2",
        "14",
        "6",
        "0",
        "10",
        ".",
        "+",
        "cu128",
        "cu130",
        "cpu",
        "rocm6.2",
        "a0",
        "git2e4abc8",
        "nv24.03",
        "dev20250310",
        "-",
        " ",
        "\x00",
        "é",
    ]
)
_TEXT = st.one_of(st.text(max_size=40), st.lists(_PIECES, max_size=8).map("".join))


@TORCH_FUZZ
@given(_TEXT)
def test_any_torch_value_is_an_answer_or_one_usage_line(text: str) -> None:
    try:
        advice = api.matrix_advice(capability="8.6", driver="580.65.06", torch=text)
    except UsageError as exc:
        assert "\n" not in str(exc) and "--torch" in str(exc)
        return
    assert advice.torch is not None
    assert {f.torch for f in advice.fits} == {advice.torch.split("+")[0]}


_CONDA = st.dictionaries(
    st.sampled_from(["pytorch", "torch", "cudatoolkit"]),
    st.one_of(
        st.text(max_size=30),
        st.sampled_from(
            ["2.1.2 cuda118_py310h1234567_301", "2.5.1 py3.11_cuda12.4_cudnn9.1.0_0", "2.0 "]
        ),
    ),
    max_size=2,
)


@TORCH_FUZZ
@given(_TEXT, _CONDA)
def test_any_version_says_whether_it_is_the_official_wheel(
    text: str, conda: dict[str, str]
) -> None:
    why = not_the_official_wheel(text, conda)
    assert why is None or (isinstance(why, str) and why)


@CHECK_FUZZ
@given(_TEXT, _CONDA)
def test_the_arch_check_over_any_torch_version(text: str, conda: dict[str, str]) -> None:
    f = h100_host()
    f = edit(f, "torch", dataclasses.replace(f.torch, version=text, live=None))
    f = edit(f, "toolchain.conda_packages", conda)
    for finding in run_checks(f):
        assert finding.check_id and finding.message
