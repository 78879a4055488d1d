"""The packaged matrix: every entry parses, is sourced, validates, and ranges do not overlap."""

from __future__ import annotations

import copy
import itertools
import json
from pathlib import Path

import jsonschema
import pytest

from envlock.matrix import (
    ArchTarget,
    DriverSupport,
    MatrixError,
    Version,
    load_matrix,
    read_documents,
)
from envlock.matrix.loader import build_matrix

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[2] / "schemas" / "matrix.schema.json").read_text()
)
V = Version.parse


# ------------------------------------------------------------------ structure
@pytest.mark.parametrize("name", sorted(read_documents()))
def test_file_validates_against_schema(name: str) -> None:
    jsonschema.validate(read_documents()[name], SCHEMA)


def test_schema_rejects_an_entry_without_source() -> None:
    doc = copy.deepcopy(read_documents()["drivers.toml"])
    del doc["toolkit"][0]["source"]
    with pytest.raises(jsonschema.ValidationError, match="source"):
        jsonschema.validate(doc, SCHEMA)


def test_loader_rejects_unknown_source_key() -> None:
    docs = copy.deepcopy(read_documents())
    docs["gpus.toml"]["gpu"][0]["source"] = ["N99"]
    with pytest.raises(MatrixError, match=r"gpus.toml:gpu\[0\].source"):
        build_matrix(docs)


def test_loader_rejects_bad_version_with_its_path() -> None:
    docs = copy.deepcopy(read_documents())
    docs["torch.toml"]["torch"][3]["variant"][0]["cudnn"] = "nine"
    with pytest.raises(MatrixError, match=r"torch.toml:torch\[3\].variant\[0\].cudnn"):
        build_matrix(docs)


def test_loaded_once() -> None:
    assert load_matrix() is load_matrix()


def test_every_entry_has_known_sources() -> None:
    m = load_matrix()
    entries = [
        *m.toolkits,
        *m.minor_floors,
        *m.capabilities,
        *m.gpus,
        *m.torch,
        *m.cudnn,
        *(v for r in m.torch for v in r.variants),
    ]
    assert entries
    for e in entries:
        assert e.source and set(e.source) <= m.sources.keys(), e


# --------------------------------------------------------------- no overlaps
@pytest.mark.parametrize("os_name", ["linux", "windows"])
def test_toolkit_driver_ranges_do_not_overlap(os_name: str) -> None:
    """Every driver of CUDA X.Y is below every driver of the next CUDA version."""
    m = load_matrix()
    by_cuda: dict[Version, list[Version]] = {}
    for t in m.toolkits:
        d = t.windows if os_name == "windows" else t.linux
        if d is not None:
            by_cuda.setdefault(t.cuda, []).append(d)
    ordered = sorted(by_cuda)
    assert len(ordered) > 10
    for lower, higher in itertools.pairwise(ordered):
        assert max(by_cuda[lower]) <= min(by_cuda[higher]), (lower, higher)


def test_minor_floors_are_below_every_later_toolkit_driver_of_their_major() -> None:
    """X.1 and later need more than the floor. (11.0 GA shipped 450.51.05, below the
    11.x floor 450.80.02: N1 lists both, and such a driver runs 11.0 fully anyway.)"""
    m = load_matrix()
    assert len({f.cuda_major for f in m.minor_floors}) == len(m.minor_floors)
    for f in m.minor_floors:
        drivers = [t.linux for t in m.toolkits if t.cuda.major == f.cuda_major]
        later = [t.linux for t in m.toolkits if t.cuda.major == f.cuda_major and t.cuda.minor]
        assert drivers and f.linux <= min(later or drivers)
    assert m.driver_support(V("450.51.05"), V("11.0")).support is DriverSupport.FULL


def test_capabilities_unique_and_first_before_last() -> None:
    m = load_matrix()
    sms = [c.sm for c in m.capabilities]
    assert len(set(sms)) == len(sms)
    for c in m.capabilities:
        assert c.last_cuda is None or c.first_cuda <= c.last_cuda, c


def test_gpu_names_unique_and_capabilities_known() -> None:
    m = load_matrix()
    tokens = [g.tokens for g in m.gpus]
    assert len(set(tokens)) == len(tokens)
    for g in m.gpus:
        assert m.capability(g.capability) is not None, g


def test_torch_releases_and_variants_unique() -> None:
    m = load_matrix()
    releases = [r.release for r in m.torch]
    assert len(set(releases)) == len(releases)
    for r in m.torch:
        names = [v.name for v in r.variants]
        assert len(set(names)) == len(names)
        assert r.python_min <= r.python_max
        for v in r.variants:
            assert v.name == f"cu{v.cuda.major}{v.cuda.minor}"


def test_cudnn_version_ranges_do_not_overlap() -> None:
    ranges = sorted(load_matrix().cudnn, key=lambda r: r.min)
    for lower, higher in itertools.pairwise(ranges):
        assert lower.max is not None
        assert not higher.min.within(lower.min, lower.max), (lower.min, higher.min)
        assert not lower.max.within(higher.min, higher.max)


def test_unverified_rows_stay_marked() -> None:
    m = load_matrix()
    # a list no 2.7 build script or wheel reading confirms: kept, and flagged
    r27 = m.torch_variant(V("2.7"), V("11.8"))
    assert r27 is not None and r27.arch_list is not None and "arch-list" in r27.unverified
    cu118 = m.torch_variant(V("2.0"), V("11.8"))
    assert cu118 is not None and cu118.nccl is None and "nccl" in cu118.unverified
    a800 = m.gpu_by_name("NVIDIA A800-SXM4-80GB")
    assert a800 is not None and a800.unverified and a800.capability == V("8.0")


# Every GPU name whose capability no source states, exactly: one resolved or newly flagged
# changes this set. H800: a printed conflict (sglang#16171: nvidia-smi 8.9 on a host called H800).
STILL_UNVERIFIED_GPUS = {"A800", "H800"}


def test_the_unverified_gpu_names_are_exactly_these() -> None:
    assert {g.name for g in load_matrix().gpus if g.unverified} == STILL_UNVERIFIED_GPUS


@pytest.mark.parametrize(
    ("name", "capability", "key"),
    [
        # printed beside the name: torch's own capability answer or warning, an nvidia-smi query
        ("NVIDIA H20", "9.0", "GH20"),
        ("NVIDIA L20", "8.9", "GL20"),
        # a PyTorch maintainer's statement for the CI's g5 instances
        ("NVIDIA A10G", "8.6", "GA10G"),
    ],
)
def test_china_and_cloud_parts_name_their_source(name: str, capability: str, key: str) -> None:
    g = load_matrix().gpu_by_name(name)
    assert g is not None and not g.unverified and key in g.source, name
    assert g.capability == V(capability)


# -------------------------------------------------------------------- spots
def test_cuda_12_8_toolkit_driver() -> None:
    m = load_matrix()
    assert str(m.toolkit_driver(V("12.8"), "linux")) == "570.26"
    assert str(m.toolkit_driver(V("12.8"), "windows")) == "570.65"
    assert m.toolkit_driver(V("13.1"), "windows") is None  # N/A from 13.1


def test_driver_support_levels() -> None:
    m = load_matrix()
    assert m.driver_support(V("570.86"), V("12.8")).support is DriverSupport.FULL
    assert m.driver_support(V("570.86"), V("12.9")).support is DriverSupport.MINOR_COMPAT
    assert m.driver_support(V("570.86"), V("13.0")).support is DriverSupport.TOO_OLD
    assert m.driver_support(V("580.65.06"), V("13.0")).support is DriverSupport.FULL
    assert m.driver_support(V("525.60.13"), V("12.6")).support is DriverSupport.MINOR_COMPAT
    assert m.driver_support(V("520.61.05"), V("12.0")).support is DriverSupport.TOO_OLD
    assert m.driver_support(V("999.1"), V("99.0")).support is DriverSupport.UNKNOWN
    assert m.newest_cuda_for_driver(V("570.86")) == V("12.8")


def test_torch_2_14_cu130_covers_7_5_to_12_0() -> None:
    m = load_matrix()
    v = m.torch_variant(V("2.14.1"), V("13.0"))
    assert v is not None and v.targets is not None
    for cc in ("7.5", "8.0", "8.6", "8.9", "9.0", "10.0", "10.3", "12.0", "12.1"):
        assert m.coverage(V(cc), v.targets).runs, cc
    assert m.coverage(V("8.9"), v.targets).sass == ArchTarget(capability=V("8.6"))


def test_v100_not_covered_by_torch_2_14_cu130() -> None:
    m = load_matrix()
    v = m.torch_variant(V("2.14"), V("13.0"))
    assert v is not None and v.targets is not None
    assert not m.coverage(V("7.0"), v.targets).runs
    cu126 = m.torch_variant(V("2.14"), V("12.6"))
    assert cu126 is not None and cu126.targets is not None
    assert m.coverage(V("7.0"), cu126.targets).runs


def test_rtx_4090_runs_on_sm86_sass() -> None:
    """The pitfall: sm_89 needs no exact match; sm_86 SASS runs on 8.9."""
    m = load_matrix()
    cc = m.gpu_by_name("NVIDIA GeForce RTX 4090")
    assert cc is not None and cc.capability == V("8.9")
    v = m.torch_variant(V("2.5"), V("12.4"))  # 5.0..9.0, no PTX
    assert v is not None and v.targets is not None
    targets = [t for t in v.targets if t.capability != V("9.0")]  # a wheel built up to 8.6
    cov = m.coverage(cc.capability, targets)
    assert cov.sass == ArchTarget(capability=V("8.6")) and cov.ptx is None


def test_h100_not_covered_by_a_wheel_up_to_sm86_without_ptx() -> None:
    m = load_matrix()
    v = m.torch_variant(V("2.0"), V("11.7"))
    assert v is not None and v.targets is not None
    assert not m.coverage(V("9.0"), v.targets).runs
    with_ptx = [*v.targets, ArchTarget(capability=V("8.6"), ptx=True)]
    cov = m.coverage(V("9.0"), with_ptx)
    assert cov.sass is None and cov.ptx == ArchTarget(capability=V("8.6"), ptx=True)


def test_sass_never_crosses_a_major() -> None:
    m = load_matrix()
    assert not m.sass_runs(ArchTarget(capability=V("8.0")), V("9.0"))
    assert not m.sass_runs(ArchTarget(capability=V("9.0")), V("8.9"))
    assert m.sass_runs(ArchTarget(capability=V("12.0")), V("12.1"))


def test_tegra_parts_run_only_their_own_sass() -> None:
    m = load_matrix()
    assert not m.sass_runs(ArchTarget(capability=V("8.0")), V("8.7"))
    assert m.sass_runs(ArchTarget(capability=V("8.7")), V("8.7"))
    assert not m.sass_runs(ArchTarget(capability=V("10.0")), V("10.1"))
    assert m.sass_runs(ArchTarget(capability=V("10.1")), V("11.0"))
    assert not m.sass_runs(ArchTarget(capability=V("9.0"), variant="a"), V("9.1"))


@pytest.mark.parametrize(
    ("name", "cc"),
    [
        ("NVIDIA H100 80GB HBM3", "9.0"),
        ("NVIDIA GH200 480GB", "9.0"),
        ("NVIDIA A100-SXM4-80GB", "8.0"),
        ("NVIDIA A10", "8.6"),
        ("Tesla V100-SXM2-16GB", "7.0"),
        ("Tesla T4", "7.5"),
        ("NVIDIA GeForce RTX 5070 Ti", "12.0"),
        ("NVIDIA RTX 6000 Ada Generation", "8.9"),
        ("Quadro RTX 6000", "7.5"),
        ("NVIDIA RTX PRO 6000 Blackwell Server Edition", "12.0"),
        ("NVIDIA L40S", "8.9"),
        ("NVIDIA GeForce GTX TITAN X", "5.2"),
        ("RTX 5090", "12.0"),
        ("4090", "8.9"),
    ],
)
def test_gpu_names(name: str, cc: str) -> None:
    model = load_matrix().gpu_by_name(name)
    assert model is not None and model.capability == V(cc)


def test_unknown_gpu_name() -> None:
    assert load_matrix().gpu_by_name("Radeon RX 7900") is None
    assert load_matrix().gpu_by_name("RTX") is None  # ambiguous


def test_cudnn_ranges() -> None:
    m = load_matrix()
    r = m.cudnn_range(V("9.24.0"))
    assert r is not None and not r.supports_capability(V("7.0"))
    assert r.supports_capability(V("12.0")) and r.supports_cuda(V("13.0"))
    r = m.cudnn_range(V("9.10.2.21"))
    assert r is not None and r.supports_capability(V("7.0")) and not r.supports_cuda(V("13.0"))
    assert m.cudnn_range(V("8.5.0")) is None  # no entry for cuDNN 8.0-8.9.4 (cudnn.toml)


def test_python_ranges() -> None:
    m = load_matrix()
    r = m.torch_release(V("2.14.1"))
    assert r is not None and r.supports_python(V("3.14.0")) and not r.supports_python(V("3.9"))
    assert not r.supports_python(V("3.15"))  # the 2.14.1 wheel's classifiers stop at 3.14 (WH)
    r = m.torch_release(V("2.0"))
    assert r is not None and not r.supports_python(V("3.12.1"))
