"""A family member's variant from conda's build string (issue 21 item 4's shapes): the
pytorch channel names a member's build by its Python and variant ("torchvision 0.13.0
py39_cu116 pytorch"), as a wheel's local tag does (+cu116); the same release built for
another variant than torch's is the local-tag mismatch. A conda entry of another version
than the member the environment holds (vllm-16006: conda's torchvision 0.16.0 py311_cpu
under pip's 0.20.1) describes another install and says nothing of this one.
"""

from __future__ import annotations

from tests.checks.family_reports import family, report


def test_conda_members_of_torchs_variant_are_quiet() -> None:
    """pytorch-82889: conda's pytorch 1.12.0 (CUDA 11.6) with torchvision and torchaudio
    py39_cu116."""
    assert family(report("pytorch-82889.txt")) == []


def test_a_conda_member_built_for_another_cuda_fires() -> None:
    """The same environment with conda's torchvision of the cu113 build."""
    facts = report(
        "pytorch-82889.txt",
        ("0.13.0               py39_cu116", "0.13.0               py39_cu113"),
    )
    (f,) = family(facts)
    assert f.evidence["package"] == "torchvision"
    assert f.evidence["found_by"] == ["conda build"], f.evidence
    assert "py39_cu113" in f.message and "cu116" in f.message, f.message


def test_a_conda_cpu_member_beside_a_cuda_torch_fires() -> None:
    facts = report(
        "ghfile-serkansatak-nuts-and-bolts-tracking-readme.txt",
        (
            "torchaudio                0.13.1               py39_cu117",
            "torchaudio                0.13.1               py39_cpu",
        ),
    )
    (f,) = family(facts)
    assert f.evidence["package"] == "torchaudio", f.evidence


def test_a_conda_entry_of_another_version_says_nothing_of_pips_member() -> None:
    found = family(report("vllm-16006.txt"))
    assert all(f.evidence["found_by"] != ["conda build"] for f in found), found
