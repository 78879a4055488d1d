"""A nightly family member beside a released torch (issue 21 item 4's shapes).

The nightly index builds each night's members against that night's torch and pins them to
it (torchvision 0.15.0.dev20221203 requires torch==1.14.0.dev20221203, pytorch-91420), so a
nightly of another release's cycle cannot serve a released torch: pytorch-47304's
torchvision 0.7.0.dev20200610 (torch 1.6's cycle) beside torch 1.7.0 was read so, but only
without a local tag; today's nightlies carry one (+cu128), and audio-1749's torchaudio
0.10.0.dev20210902 was found by its +rocm4.1 alone. A nightly of the cycle after torch's
release is as foreign. A nightly of torch's own series, and a nightly torch's members,
are left to the nightly-date rule.
"""

from __future__ import annotations

from envlock.checks import run_checks
from envlock.facts import Facts
from envlock.findings import Finding
from envlock.pasted import facts_from_texts
from tests.conftest import FIXTURES

CE = FIXTURES / "collect_env"


def _report(name: str, old: str, new: str) -> Facts:
    text = (CE / name).read_text()
    assert old in text, old
    return facts_from_texts(collect_env=text.replace(old, new))


def _family(facts: Facts) -> list[Finding]:
    return [f for f in run_checks(facts) if f.check_id == "EL-FAMILY-MISMATCH"]


def test_a_tagged_nightly_of_the_next_cycle_beside_a_release_fires() -> None:
    """audio-1749 with the nightly built for torch's own variant: torchaudio 0.10's nightly
    (torch 1.10's cycle) beside torch 1.9.0+cu111."""
    facts = _report(
        "audio-1749.txt",
        "torchaudio==0.10.0.dev20210902+rocm4.1",
        "torchaudio==0.10.0.dev20210902+cu111",
    )
    (f,) = _family(facts)
    assert f.evidence["found_by"] == ["pre-release series"], f.evidence
    assert "torch 1.10" in f.message and "1.9.0+cu111" in f.message, f.message
    assert f.fix is not None and '"torchaudio==0.9.*"' in f.fix, f.fix


def test_a_tagged_nightly_of_an_earlier_cycle_beside_a_release_fires() -> None:
    """pytorch-47304's torchvision 0.7 nightly as today's nightly index names it (+cu101)."""
    facts = _report(
        "pytorch-47304.txt",
        "[pip] torchvision==0.7.0.dev20200610",
        "[pip] torchvision==0.7.0.dev20200610+cu101",
    )
    (f,) = _family(facts)
    assert "built in the cycle of torch 1.6" in f.message, f.message


def test_a_nightly_of_torchs_own_series_beside_its_release_is_quiet() -> None:
    facts = _report(
        "audio-1749.txt",
        "torchaudio==0.10.0.dev20210902+rocm4.1",
        "torchaudio==0.9.0.dev20210501+cu111",
    )
    assert _family(facts) == []
