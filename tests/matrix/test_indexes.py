"""matrix/indexes.toml: the download.pytorch.org indexes (and find-links pages) pytorch.org's
install commands name for each torch release, and the lookups the fixes use."""

from __future__ import annotations

import pytest

from envlock.matrix import load_matrix
from envlock.matrix.family import index_for, load_indexes, parse_indexes
from envlock.matrix.loader import MatrixError, read_documents, read_toml
from envlock.matrix.versions import Version

PAGE = "https://download.pytorch.org/whl/torch_stable.html"


def _url(torch: str, tag: str) -> str | None:
    index = index_for(Version.parse(torch), tag)
    return index.option if index is not None else None


@pytest.mark.parametrize(
    ("torch", "tag", "option"),
    [
        ("2.3.0", "rocm6.0", "--index-url https://download.pytorch.org/whl/rocm6.0"),
        ("2.2.0", "rocm5.6", "--index-url https://download.pytorch.org/whl/rocm5.6"),
        ("2.2.2", "rocm5.7", "--index-url https://download.pytorch.org/whl/rocm5.7"),
        ("2.6.0", "rocm6.2.4", "--index-url https://download.pytorch.org/whl/rocm6.2.4"),
        ("2.9.1", "rocm6.4", "--index-url https://download.pytorch.org/whl/rocm6.4"),
        ("1.13.1", "rocm5.2", "--extra-index-url https://download.pytorch.org/whl/rocm5.2"),
        ("1.8.2", "cu111", "--extra-index-url https://download.pytorch.org/whl/lts/1.8/cu111"),
        ("1.9.0", "rocm4.2", f"-f {PAGE}"),
        ("1.9.0", "cu111", f"-f {PAGE}"),
        ("1.0.0", "cu90", "-f https://download.pytorch.org/whl/cu90/torch_stable.html"),
        ("2.14.1", "cu130", "--index-url https://download.pytorch.org/whl/cu130"),
        ("2.14.1", "cpu", "--index-url https://download.pytorch.org/whl/cpu"),
    ],
)
def test_a_pair_pytorch_org_names_gets_its_option(torch: str, tag: str, option: str) -> None:
    assert _url(torch, tag) == option


@pytest.mark.parametrize(
    ("torch", "tag"),
    [
        ("2.3.0", "rocm6.2.3"),  # AMD's repo.radeon.com build (legacy-rocm-build#4729)
        ("2.2.0", "rocm5.7"),  # 2.2.0's ROCm build is 5.6; 5.7 came with 2.2.1
        ("2.3.0", "cu124"),  # 2.3 had cu118 and cu121 only (torch.toml)
        ("1.8.2", "cu101"),  # the LTS index: cu102, cu111, cpu
        ("1.8.0", "rocm4.0.1"),  # the page installs torch alone, torchvision from git
        ("2.14.1", "xpu"),  # no XPU index is recorded
        ("1.3.1", "cu101"),  # no page section read for 1.3
    ],
)
def test_a_pair_it_does_not_name_gets_none(torch: str, tag: str) -> None:
    assert _url(torch, tag) is None


def test_a_series_takes_the_newest_release_with_the_build() -> None:
    """`torch==2.2.*` at rocm5.7 gets 2.2.2; at rocm5.6, 2.2.0 (the only one with it)."""
    assert _url("2.2", "rocm5.7") == "--index-url https://download.pytorch.org/whl/rocm5.7"
    assert _url("2.2", "rocm5.6") == "--index-url https://download.pytorch.org/whl/rocm5.6"
    assert _url("2.2", "rocm6.0") is None


def test_the_nightly_indexes_are_todays_tags_only() -> None:
    ix = load_indexes()
    assert ix.nightly_index("cu132") == "https://download.pytorch.org/whl/nightly/cu132"
    assert ix.nightly_index("cu117") is None  # retired: its nightly index is gone


def test_every_cuda_variant_of_a_recorded_release_has_an_option() -> None:
    """torch.toml's CUDA builds of every release the table covers are named (the fixes the
    matrix computes for them keep an index to print)."""
    missing = []
    for release in load_matrix().torch:
        if release.release.parts[:2] == (1, 3):
            continue  # no 1.3 section in the page read here (indexes.toml's note)
        for variant in release.variants:
            if index_for(release.release, variant.name) is None:
                missing.append(f"{release.release} {variant.name}")
    assert missing == []


def test_a_release_whose_rocm_builds_are_unread_is_not_called_complete() -> None:
    ix = load_indexes()
    assert ix.recorded(Version.parse("2.3.0"))
    assert not ix.recorded(Version.parse("2.8.0"))  # no page section read: ROCm unknown


def test_a_row_with_an_unknown_form_or_source_is_refused() -> None:
    doc = read_toml("indexes.toml")
    sources = set(read_documents()["sources.toml"]["sources"])
    bad = {**doc, "index": [{"torch": ["2.3.0"], "form": "pip", "rocm": [], "source": ["PV"]}]}
    with pytest.raises(MatrixError, match="form"):
        parse_indexes(bad, sources, load_matrix())
    bad = {**doc, "index": [{"torch": ["2.3.0"], "form": "index-url", "source": ["NOPE"]}]}
    with pytest.raises(MatrixError):
        parse_indexes(bad, sources, load_matrix())


def test_a_lock_records_no_made_up_index_for_amds_rocm_build() -> None:
    """lock/closure.torch_index: the index a locked torch is restored from (verify's and
    restore's pip line); AMD's +rocm6.2.3 has none on download.pytorch.org."""
    from envlock.lock.closure import torch_index

    assert torch_index("2.3.0+rocm6.2.3") is None
    assert torch_index("2.3.0+rocm6.0") == "https://download.pytorch.org/whl/rocm6.0"
    assert torch_index("2.14.1+cu130") == "https://download.pytorch.org/whl/cu130"
