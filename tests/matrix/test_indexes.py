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


# ------------------------------------- the page's exact-pin lines ([[release]], R2 s11)
def _road(series: str, tag: str) -> tuple[str, str | None, dict[str, str]] | None:
    road = load_indexes().page_road(Version.parse(series), tag)
    if road is None:
        return None
    option = road.index.option if road.index is not None else None
    return str(road.line.torch), option, road.line.requirements(tag)


@pytest.mark.parametrize(
    ("series", "tag", "release", "option", "torch", "torchvision"),
    [
        # the page: "pip install torch==1.9.1+cu111 torchvision==0.10.1+cu111 torchaudio==0.9.1
        # -f https://download.pytorch.org/whl/torch_stable.html"
        ("1.9", "cu111", "1.9.1", f"-f {PAGE}", "torch==1.9.1+cu111", "torchvision==0.10.1+cu111"),
        ("1.10", "cpu", "1.10.1", f"-f {PAGE}", "torch==1.10.1+cpu", "torchvision==0.11.2+cpu"),
        # 1.8.1 (cu101 is on its page, not 1.8.0's), never the LTS 1.8.2 (Python <= 3.8)
        ("1.8", "cu111", "1.8.1", f"-f {PAGE}", "torch==1.8.1+cu111", "torchvision==0.9.1+cu111"),
        ("1.8", "cu101", "1.8.1", f"-f {PAGE}", "torch==1.8.1+cu101", "torchvision==0.9.1+cu101"),
        ("1.5", "cu92", "1.5.1", f"-f {PAGE}", "torch==1.5.1+cu92", "torchvision==0.6.1+cu92"),
        # the PyPI default build: "# CUDA 10.2 / pip install torch==1.7.1 torchvision==0.8.2"
        ("1.7", "cu102", "1.7.1", None, "torch==1.7.1", "torchvision==0.8.2"),
        ("1.4", "cu101", "1.4.0", None, "torch==1.4.0", "torchvision==0.5.0"),
        ("1.2", "cu100", "1.2.0", None, "torch==1.2.0", "torchvision==0.4.0"),
        # no pip line: "Download and install wheel from .../cu90/torch_stable.html"
        (
            "1.1",
            "cu90",
            "1.1.0",
            "-f https://download.pytorch.org/whl/cu90/torch_stable.html",
            "torch==1.1.0",
            "torchvision==0.3.0",
        ),
    ],
)
def test_a_release_the_page_pins_exactly_gets_its_line(
    series: str, tag: str, release: str, option: str | None, torch: str, torchvision: str
) -> None:
    found = _road(series, tag)
    assert found is not None
    got_release, got_option, reqs = found
    assert (got_release, got_option) == (release, option)
    assert (reqs["torch"], reqs["torchvision"]) == (torch, torchvision)


@pytest.mark.parametrize(
    ("series", "tag"),
    [
        ("1.3", "cu101"),  # the page has no 1.3 section
        ("1.11", "cu113"),  # --extra-index-url and torch==1.11.* from here on
        ("2.3", "cu121"),
        ("1.9", "rocm4.2"),  # the matrix's roads are CUDA/CPU builds
        ("1.9", "cu113"),  # no such build of 1.9 (torch.toml)
    ],
)
def test_a_series_installed_by_index_or_unknown_gets_no_page_line(series: str, tag: str) -> None:
    assert _road(series, tag) is None


def test_the_page_pins_torchaudio_untagged_and_1_6_without_it() -> None:
    """As the page writes them: torchaudio untagged beside tagged torch (1.7-1.10), no
    torchaudio on 1.6.0's line."""
    assert _road("1.10", "cu111") == (
        "1.10.1",
        f"-f {PAGE}",
        {
            "torch": "torch==1.10.1+cu111",
            "torchvision": "torchvision==0.11.2+cu111",
            "torchaudio": "torchaudio==0.10.1",
        },
    )
    found = _road("1.6", "cpu")
    assert found is not None and "torchaudio" not in found[2]


@pytest.mark.parametrize(
    ("row", "match"),
    [
        ({"torch": "1.9.1", "pins": ["torchvision==0.10.1+{tag}"]}, "first pin"),
        ({"torch": "1.9.1", "pins": ["torch==1.9.0+{tag}"]}, "first pin"),
        ({"torch": "1.9.1", "pins": ["torch==1.9.1+{tag}", "torch vision"]}, "release"),
        ({"torch": "1.9.1", "pins": ["torch==1.9.1"], "kind": "wheel"}, "kind"),
        ({"torch": "1.9.1", "pins": ["torch==1.9.1"], "index": "x"}, "key"),
        ({"torch": "1.9.1", "pins": ["torch==1.9.1"], "source": ["NOPE"]}, "source"),
    ],
)
def test_a_release_row_that_is_not_the_pages_form_is_refused(
    row: dict[str, object], match: str
) -> None:
    doc = read_toml("indexes.toml")
    sources = set(read_documents()["sources.toml"]["sources"])
    bad = {**doc, "release": [{"source": ["PV"], **row}]}
    with pytest.raises(MatrixError, match=match):
        parse_indexes(bad, sources, load_matrix())


def test_every_release_row_holds_requirements_pip_reads_for_each_build() -> None:
    """Each row's pins for every build the table gives its release (and PyPI's untagged):
    packaging's requirement parser reads each as one exact pin of that release."""
    from packaging.requirements import Requirement
    from packaging.version import Version as PipVersion

    ix = load_indexes()
    assert len(ix.releases) >= 17
    for line in ix.releases:
        tags = {"cpu", *ix.cuda.get(line.torch.parts[:2], ())}
        for tag in tags:
            for untagged in (False, True):
                reqs = line.requirements(tag, untagged=untagged)
                torch = Requirement(reqs["torch"])
                (spec,) = torch.specifier
                assert spec.operator == "=="
                assert PipVersion(spec.version).public == str(line.torch)
                for name, text in reqs.items():
                    assert Requirement(text).name == name
