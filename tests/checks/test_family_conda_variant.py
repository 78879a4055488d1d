"""A family member's variant from conda's build string (issue 21 item 4's shapes): the
pytorch channel names a member's build by its Python and variant ("torchvision 0.13.0
py39_cu116 pytorch"), as a wheel's local tag does (+cu116); the same release built for
another variant than torch's is the local-tag mismatch. A conda entry of another version
than the member the environment holds (vllm-16006: conda's torchvision 0.16.0 py311_cpu
under pip's 0.20.1) describes another install and says nothing of this one.
"""

from __future__ import annotations

from envlock.checks import run_checks
from envlock.facts import Facts
from envlock.findings import Finding
from envlock.pasted import facts_from_texts
from tests.conftest import FIXTURES

CE = FIXTURES / "collect_env"


def _report(name: str, *swap: tuple[str, str]) -> Facts:
    text = (CE / name).read_text()
    for old, new in swap:
        assert old in text, old
        text = text.replace(old, new)
    return facts_from_texts(collect_env=text)


def _family(facts: Facts) -> list[Finding]:
    return [f for f in run_checks(facts) if f.check_id == "EL-FAMILY-MISMATCH"]


def test_conda_members_of_torchs_variant_are_quiet() -> None:
    """pytorch-82889: conda's pytorch 1.12.0 (CUDA 11.6) with torchvision and torchaudio
    py39_cu116."""
    assert _family(_report("pytorch-82889.txt")) == []


def test_a_conda_member_built_for_another_cuda_fires() -> None:
    """The same environment with conda's torchvision of the cu113 build."""
    facts = _report(
        "pytorch-82889.txt",
        ("0.13.0               py39_cu116", "0.13.0               py39_cu113"),
    )
    (f,) = _family(facts)
    assert f.evidence["package"] == "torchvision"
    assert f.evidence["found_by"] == ["conda build"], f.evidence
    assert "py39_cu113" in f.message and "cu116" in f.message, f.message


def test_a_conda_cpu_member_beside_a_cuda_torch_fires() -> None:
    facts = _report(
        "ghfile-serkansatak-nuts-and-bolts-tracking-readme.txt",
        (
            "torchaudio                0.13.1               py39_cu117",
            "torchaudio                0.13.1               py39_cpu",
        ),
    )
    (f,) = _family(facts)
    assert f.evidence["package"] == "torchaudio", f.evidence


def test_a_conda_entry_of_another_version_says_nothing_of_pips_member() -> None:
    found = _family(_report("vllm-16006.txt"))
    assert all(f.evidence["found_by"] != ["conda build"] for f in found), found
