"""A family member built from a git checkout ("0.16.1+fdea156"): compiled against the torch
beside it, but the code of the branch its version names (issue 21; session 8's held-out
miss ghfile-dstackai-dstack-amd-mi300x-benchmark).

torchvision's version.txt says which branch a build came from. A patch number (0.16.1) is
only ever set on a release branch after the release (pytorch/vision#8130 'Bump torchvision
to 0.16.2', #9061 'Bump version to 0.22.1', both release-only): such a build is that
release's code, and pairs as the release does. main names the series it develops, but its
bump lags the branch cut by weeks to months (#9376, 2026-02-05, 'Update version to 0.26.0a0
... after the 0.25 release so source builds will use a newer version'): a development
version one series behind torch's may be main's code for torch's own release (vllm-8318:
torchvision 0.19.0a0+d23a6e1 beside torch 2.5.0 in XLA's TPU image, healthy), so nothing
can be said; two series behind is older code than any main of torch's cycle.
"""

from __future__ import annotations

import pytest

from tests.checks.family_reports import family, report

DSTACK = "ghfile-dstackai-dstack-amd-mi300x-benchmark.txt"


def test_a_release_branch_build_beside_another_torch_is_its_releases_member() -> None:
    """dstack's MI300X: torchvision 0.16.1+fdea156 (release/0.16's code, torch 2.1's member)
    beside torch 2.4.1+rocm6.1; on ROCm the family is judged as anywhere, and the fix takes
    torch 2.4's torchvision from torch's own ROCm index."""
    (f,) = family(report(DSTACK))
    assert f.evidence["package"] == "torchvision"
    assert f.evidence["found_by"] == ["source build"]
    assert "torchvision 0.16 goes with torch 2.1" in f.message, f.message
    assert f.fix is not None
    assert '"torchvision==0.19.*"' in f.fix, f.fix
    assert "https://download.pytorch.org/whl/rocm6.1" in f.fix, f.fix


def test_the_same_build_beside_its_own_torch_is_quiet() -> None:
    """vllm-4514 (healthy): the same torchvision 0.16.1+fdea156 beside AMD's torch
    2.1.1+git011de5c, the torch it was built for."""
    assert family(report("vllm-4514.txt")) == []


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("vllm-8318.txt", "0.19.0a0+d23a6e1 beside torch 2.5.0: main before its bump"),
        ("pytorch-37530.txt", "0.5.0a0+85b8fbf beside torch 1.5.0: the same shape"),
        ("vllm-12410.txt", "Habana's torchtext 0.18.0a0 beside torch 2.5.1a0: no torchtext 0.19"),
        ("pytorch-28280.txt", "0.5.0a0+e8b830f beside a torch 1.3 nightly: a newer series"),
    ],
)
def test_a_development_build_one_series_behind_or_ahead_is_quiet(name: str, why: str) -> None:
    assert family(report(name)) == [], why


def test_a_patch_number_one_series_behind_fires() -> None:
    """vllm-8318's image with release/0.19's code (0.19.1, torch 2.4.1's patch release)
    instead of main's 0.19.0a0: torch 2.4's member beside torch 2.5.0."""
    facts = report(
        "vllm-8318.txt", ("torchvision==0.19.0a0+d23a6e1", "torchvision==0.19.1+d23a6e1")
    )
    (f,) = family(facts)
    assert "torchvision 0.19 goes with torch 2.4" in f.message, f.message


def test_a_development_build_two_series_behind_fires() -> None:
    """pytorch-37530's torchvision from main two series back (0.4.0a0, torch 1.2/1.3's
    cycle) beside torch 1.5.0: no main of torch 1.5's cycle still said 0.4."""
    facts = report(
        "pytorch-37530.txt", ("torchvision==0.5.0a0+85b8fbf", "torchvision==0.4.0a0+85b8fbf")
    )
    (f,) = family(facts)
    assert f.evidence["found_by"] == ["source build"]
    assert "two or more series before" in f.message, f.message


def test_beside_a_source_built_torch_the_fix_builds_the_member_against_it() -> None:
    """vllm-4514's AMD torch 2.1.1+git011de5c with release/0.14's torchvision (0.14.1, torch
    1.13's): no released wheel is built for that torch, so the fix builds torch 2.1's."""
    facts = report("vllm-4514.txt", ("torchvision==0.16.1+fdea156", "torchvision==0.14.1+fdea156"))
    (f,) = family(facts)
    assert "torchvision 0.14 goes with torch 1.13" in f.message, f.message
    assert f.fix is not None
    assert "git+https://github.com/pytorch/vision.git@v0.16.0" in f.fix, f.fix
