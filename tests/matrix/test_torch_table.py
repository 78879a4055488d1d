"""torch.toml: every official release 1.0-2.14 with its CUDA variants, each row sourced, and
the answers `envlock matrix` and EL-ARCH-UNSUPPORTED give from it for GPUs of every era."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from envlock.checks import run_checks
from envlock.facts import Facts
from envlock.matrix import Version, load_matrix
from tests.conftest import run_envlock
from tests.facts_builders import edit, gpu, h100_host, with_gpus

V = Version.parse

# The Linux wheel variants of each 1.x release, as pytorch.org's previous-versions page
# lists them (source PV), plus the CUDA versions the release's builder branch built where
# that page leaves one out (1.3 is not on it; cu113 for 1.10, cu115 for 1.11: source BR).
VARIANTS_1X = {
    "1.0": {"cu80", "cu90", "cu100"},
    "1.1": {"cu90", "cu100"},
    "1.2": {"cu92", "cu100"},
    "1.3": {"cu92", "cu100", "cu101"},
    "1.4": {"cu92", "cu101"},
    "1.5": {"cu92", "cu101", "cu102"},
    "1.6": {"cu92", "cu101", "cu102"},
    "1.7": {"cu92", "cu101", "cu102", "cu110"},
    "1.8": {"cu101", "cu102", "cu111"},
    "1.9": {"cu102", "cu111"},
    "1.10": {"cu102", "cu111", "cu113"},
    "1.11": {"cu102", "cu113", "cu115"},
    "1.12": {"cu102", "cu113", "cu116"},
    "1.13": {"cu116", "cu117"},
}
# where a builder's TORCH_CUDA_ARCH_LIST comes from: a main commit before the release, the
# 1.8 LTS branch, or the release/X.Y branch (sources.toml says which commit each one is)
BUILDER_KEYS = {f"B1{n}" for n in range(9)} | {"BR"}


def test_every_release_from_1_0_to_2_14_is_listed() -> None:
    releases = {str(r.release) for r in load_matrix().torch}
    assert releases == {f"1.{n}" for n in range(14)} | {f"2.{n}" for n in range(15)}


@pytest.mark.parametrize("release", sorted(VARIANTS_1X, key=V))
def test_1x_variants(release: str) -> None:
    r = load_matrix().torch_release(V(release))
    assert r is not None
    assert {v.name for v in r.variants} == VARIANTS_1X[release]


def test_every_variant_has_an_arch_list() -> None:
    for r in load_matrix().torch:
        for v in r.variants:
            assert v.arch_list, (str(r.release), v.name)


def test_builder_era_rows_name_the_builder() -> None:
    """1.0-2.5 were built by pytorch/builder: each row names the script it was read from."""
    for r in load_matrix().torch:
        if r.release <= V("2.5"):
            for v in r.variants:
                assert BUILDER_KEYS & set(v.source), (str(r.release), v.name, v.source)


# Every field no source settles, exactly: a field resolved or newly flagged changes this set.
STILL_UNVERIFIED = {
    # 2.0's cu118 was a large wheel, whose NCCL is the third_party/nccl submodule's (NC), not
    # the builder image's 2.15.5 once listed here; no reading of its version was found
    ("2.0", "cu118", "nccl"),
    # no build script at the 2.7 branch cut and no wheel reading names the cu118 list
    ("2.7", "cu118", "arch-list"),
    # 2.13.0's PTX: PX says release wheels shipped 12.0+PTX, the cu130 wheel (WH213) has none
    ("2.13", "cu132", "arch-list"),
}


def test_the_unverified_fields_are_exactly_these() -> None:
    found = {
        (str(r.release), v.name, field)
        for r in load_matrix().torch
        for v in r.variants
        for field in v.unverified
    }
    assert found == STILL_UNVERIFIED


@pytest.mark.parametrize(
    ("release", "cuda", "key", "arch_list"),
    [
        # the 1.2.0 wheel read per fatbin: torch's own kernels carry compute_50 only (WHF12)
        ("1.2", "10.0", "WHF12", ["3.5", "5.0+PTX", "6.0", "6.1", "7.0", "7.5"]),
        # main's build script around the 2.6 cut, 12.6's PTX removed for the release (PR26)
        ("2.6", "11.8", "BM26", ["3.7", "5.0", "6.0", "7.0", "7.5", "8.0", "8.6", "9.0"]),
        ("2.6", "12.6", "PR26", ["5.0", "6.0", "7.0", "7.5", "8.0", "8.6", "9.0"]),
        # the 2.7.1 cu128 wheel's get_arch_list() as a user printed it (CK27)
        ("2.7", "12.8", "CK27", ["7.5", "8.0", "8.6", "9.0", "10.0", "12.0+PTX"]),
        # release builds without +PTX: the branch-cut sed to 2.12, the release rule from 2.14 (PX)
        ("2.12", "13.2", "PX", ["7.5", "8.0", "8.6", "9.0", "10.0", "12.0"]),
        ("2.14", "13.2", "PX", ["7.5", "8.0", "8.6", "9.0", "10.0", "12.0"]),
    ],
)
def test_resolved_rows_name_their_source(
    release: str, cuda: str, key: str, arch_list: list[str]
) -> None:
    v = load_matrix().torch_variant(V(release), V(cuda))
    assert v is not None and not v.unverified and key in v.source, (release, cuda)
    assert v.arch_list is not None and [str(a) for a in v.arch_list] == arch_list


@pytest.mark.parametrize(
    ("release", "nccl"),
    [
        # torch.cuda.nccl.version() of 2.1.0+cu118 as a maintainer printed it (NC)
        ("2.1", "2.18.5"),
        # the NCCL release/2.2 and release/2.3's builder image built for CUDA 11.8 (NC)
        ("2.2", "2.19.3"),
        ("2.3", "2.20.5"),
    ],
)
def test_cu118_nccl_of_2_1_to_2_3_is_sourced(release: str, nccl: str) -> None:
    v = load_matrix().torch_variant(V(release), V("11.8"))
    assert v is not None and "nccl" not in v.unverified and "NC" in v.source, release
    assert v.nccl == V(nccl)


def test_no_release_field_is_unverified() -> None:
    """Every release's Python range, Requires-Python and default variant is PyPI's (PJ)."""
    for r in load_matrix().torch:
        assert not r.unverified and "PJ" in r.source, str(r.release)
        assert r.note is None or "UNVERIFIED" not in r.note, str(r.release)


def test_every_default_variant_is_read_from_its_wheel() -> None:
    """The wheel a plain `pip install torch==X.Y.0` gets, for every release 1.0-2.14, was
    read through the fatbin reader (WH, WH26, WH27, WH212, WH213, WHP)."""
    for r in load_matrix().torch:
        v = r.variant(r.default_variant)
        assert v is not None and any(s.startswith("WH") for s in v.source), str(r.release)


def test_cu130_wheels_carry_no_ptx() -> None:
    """T lists 12.0+PTX for cu130, but the 2.11-2.14 wheels hold no compute_120."""
    m = load_matrix()
    for release in ("2.11", "2.12", "2.13", "2.14"):
        v = m.torch_variant(V(release), V("13.0"))
        assert v is not None and v.arch_list is not None and "12.0" in v.arch_list
        assert not any(t.ptx for t in v.targets or []), release


# ---------------------------------------------------------------------- the answers
def _matrix(*args: str) -> dict[str, Any]:
    proc = run_envlock(["matrix", *args, "--all", "--format", "json"])
    assert proc.returncode in (0, 1), proc.stderr
    out: dict[str, Any] = json.loads(proc.stdout)
    return out


def _fits(answer: dict[str, Any], release: str) -> dict[str, dict[str, Any]]:
    return {f["variant"]: f for f in answer["fits"] if f["torch"] == release}


def _running(fits: dict[str, dict[str, Any]]) -> set[str]:
    return {name for name, f in fits.items() if f["runs"] or f["runs_with_driver_at_least"]}


def test_rtx_5090_is_offered_2_7_cu128() -> None:
    """2.7 cu128, the first build with sm_120 kernels, runs on an RTX 5090 (given a driver
    for CUDA 12.8); 2.7's other builds and every 2.6 build have no kernels for it."""
    answer = _matrix("--gpu", "RTX 5090")
    fits = _fits(answer, "2.7")
    assert _running(fits) == {"cu128"}
    assert not any("UNVERIFIED" in c for c in fits["cu128"]["caveats"])
    assert all(
        "no kernels for compute capability 12.0" in " ".join(f["problems"])
        for name, f in fits.items()
        if name != "cu128"
    )
    assert _running(_fits(answer, "2.6")) == set()


def test_rtx_5090_on_driver_570_runs_2_7_cu128() -> None:
    fits = _fits(_matrix("--gpu", "RTX 5090", "--driver", "570.86"), "2.7")
    assert fits["cu128"]["runs"] is True


@pytest.mark.parametrize(
    ("gpu_name", "torch"),
    [("A100", "1.7"), ("RTX 3090", "1.7.1")],
)
def test_ampere_on_torch_1_7_runs_only_the_cuda_11_build(gpu_name: str, torch: str) -> None:
    """The most common arch complaint of 2020-2022: an A100 or RTX 30xx with a cu10x build.
    1.7's CUDA 9.2/10.x wheels stop at sm_70/sm_75 (no PTX); its cu110 wheel has sm_80 SASS,
    which runs on 8.0 and 8.6."""
    answer = _matrix("--gpu", gpu_name, "--python-version", "3.8", "--driver", "460.32.03")
    fits = _fits(answer, str(V(torch).truncate(2)))
    assert set(fits) == {"cu92", "cu101", "cu102", "cu110"}
    assert fits["cu110"]["runs"] is True
    cc = answer["capabilities"][0]
    for name in ("cu92", "cu101", "cu102"):
        assert fits[name]["runs"] is False
        assert f"no kernels for compute capability {cc}" in " ".join(fits[name]["problems"])


@pytest.mark.parametrize(
    ("release", "variants"),
    [("2.6", {"cu118", "cu124", "cu126"}), ("2.7", {"cu118", "cu126", "cu128"})],
)
def test_rtx_3090_on_2_6_and_2_7(release: str, variants: set[str]) -> None:
    """Every 2.6 and 2.7 build has sm_86: real answers, no "cannot tell"."""
    fits = _fits(_matrix("--gpu", "RTX 3090", "--driver", "580.65.06"), release)
    assert set(fits) == variants
    assert {name for name, f in fits.items() if f["runs"] is True} == variants


# ------------------------------------------------------------- EL-ARCH-UNSUPPORTED
def _torch_1x(version: str, cuda: str, gpu_name: str, cc: str) -> Facts:
    """The H100 host edited to another GPU and a torch 1.x wheel, without torch's live facts
    (as in a pasted report): the check reads the matrix's arch list of that wheel."""
    f = h100_host()
    f = with_gpus(f, gpu(f, name=gpu_name, compute_capability=cc))
    build = "cu" + cuda.replace(".", "")
    torch = dataclasses.replace(f.torch, version=version, cuda=cuda, build=build, live=None)
    return edit(f, "torch", torch)


@pytest.mark.parametrize(
    ("version", "cuda", "gpu_name", "cc", "fires"),
    [
        ("1.7.1+cu101", "10.1", "NVIDIA GeForce RTX 3090", "8.6", True),
        ("1.7.1", "10.2", "A100-SXM4-40GB", "8.0", True),
        ("1.10.2+cu102", "10.2", "NVIDIA GeForce RTX 3080", "8.6", True),
        ("1.7.1+cu110", "11.0", "NVIDIA GeForce RTX 3090", "8.6", False),
        ("1.10.2+cu113", "11.3", "NVIDIA A100-SXM4-80GB", "8.0", False),
        ("2.6.0+cu124", "12.4", "NVIDIA GeForce RTX 5090", "12.0", True),
        ("2.7.0+cu128", "12.8", "NVIDIA GeForce RTX 5090", "12.0", False),
    ],
)
def test_arch_unsupported_sees_torch_1x(
    version: str, cuda: str, gpu_name: str, cc: str, fires: bool
) -> None:
    found = [
        f
        for f in run_checks(_torch_1x(version, cuda, gpu_name, cc))
        if f.check_id == "EL-ARCH-UNSUPPORTED"
    ]
    assert bool(found) is fires, [f.message for f in found]
    if fires:
        assert cc in found[0].message
