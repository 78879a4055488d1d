"""The torch family's readers fuzzed (issue 21 items 3 and 4): torch's origin from any
version text, a member's release status, conda's build strings and the two-install
rule over random conda and pip lists, and the family check over facts whose torch and
members carry random versions. Every outcome is a value or a finding, never an
exception, within the 2 s of CPU per example (cpubound.py)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envlock.checks import run_checks
from envlock.matrix.builds import (
    Origin,
    conda_torch,
    cuda_wanted,
    is_released,
    torch_origin,
    two_installs,
)
from tests.facts_builders import cuda_venv, edit
from tests.fuzz.test_fuzz import EXAMPLES, FUZZ

pytestmark = pytest.mark.fuzz

BUILDS_FUZZ = settings(FUZZ, deadline=None, max_examples=max(50, EXAMPLES))
CHECK_FUZZ = settings(FUZZ, deadline=None, max_examples=max(20, EXAMPLES // 5))

_PARTS = st.sampled_from(
    [
        *("2", "3", "0", "14", "1", ".", "+", "a0", "rc1", ".dev20240801", "cu118", "cpu"),
        *("rocm6.2", "git2e4abc8", "40ec155e58", ".nv24.03", "nv23.05"),
        *("py3.10_cuda11.8_cudnn8.7.0_0", "cuda118_py310h1234567_301", "py3.9_cpu_0"),
        *("pypi_0", "<pip>", " ", "_", "x"),
    ]
)
VERSIONS = st.one_of(st.text(max_size=60), st.lists(_PARTS, max_size=12).map("".join))


@BUILDS_FUZZ
@given(VERSIONS)
def test_origin_and_release_status_of_any_text(version: str) -> None:
    origin = torch_origin(version)
    assert isinstance(origin, Origin) and origin.label
    assert isinstance(is_released(version), bool)


@BUILDS_FUZZ
@given(
    st.dictionaries(
        st.sampled_from(["pytorch", "torch", "pytorch-cuda", "cudatoolkit", "pytorch-mutex"]),
        VERSIONS,
        max_size=5,
    ),
    st.dictionaries(st.sampled_from(["torch", "torchvision"]), VERSIONS, max_size=2),
)
def test_conda_and_pip_lists(conda: dict[str, str], packages: dict[str, str]) -> None:
    built = conda_torch(conda)
    assert built is None or built.cpu == (built.cuda is None)
    both = two_installs(conda, packages)
    assert both is None or "pytorch" in conda
    wanted = cuda_wanted(conda, [], None, packages)
    assert wanted is None or isinstance(wanted, str)


@CHECK_FUZZ
@given(VERSIONS, VERSIONS, VERSIONS)
def test_family_check_over_random_versions(torch: str, vision: str, audio: str) -> None:
    facts = edit(cuda_venv(), "torch.version", torch)
    members = {"torchvision": vision, "torchaudio": audio, "torchtext": vision}
    facts = edit(facts, "packages.distributions", {**facts.packages.distributions, **members})
    for f in run_checks(facts):
        assert f.message and f.check_id
