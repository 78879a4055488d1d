"""Versions compare as PEP 440 (integer release segments); arch flags parse."""

from __future__ import annotations

import pytest

from envlock.matrix import ArchTarget, Version, cuda_variant, parse_arch_flags, variant_cuda

V = Version.parse


def test_integer_tuples_not_floats() -> None:
    assert V("12.10") > V("12.9")
    assert V("12.10") != V("12.1")
    assert V("570.124.06") > V("570.26")
    assert V("12.0") == V("12.0.0") and hash(V("12.0")) == hash(V("12"))


def test_pep440_pre_releases_and_local_tags_keep_their_meaning() -> None:
    assert V("2.14.1+cu130") > V("2.14.1") and V("2.14.1+cu130").truncate(3) == V("2.14.1")
    assert V("2.6.0a0+ecf3bae40a") < V("2.6.0") and V("2.6.0a0+ecf3bae40a").truncate(2) == V("2.6")
    assert V("2.5.0.dev20240801+cu124") < V("2.5.0a0")
    assert str(V("575.51.03")) == "575.51.03" and V("575.51.03") == V("575.51.3")
    assert str(V("2.6.0a0+ecf3bae40a")) == "2.6.0a0+ecf3bae40a"
    assert V("2.15.0a0+git123").parts == (2, 15, 0)


def test_not_pep440_reads_the_leading_numbers() -> None:
    assert V("12.4.r12.4") == V("12.4") and str(V("12.4.r12.4")) == "12.4"
    assert str(V("535.104.05-custom")) == "535.104.05"
    with pytest.raises(ValueError):
        V("cu130")
    assert Version.of(None) is None and Version.of("n/a") is None


def test_within_high_bound_at_its_own_precision() -> None:
    assert V("12.9.1").within(V("12.0"), V("12"))
    assert not V("13.0").within(V("12.0"), V("12"))
    assert V("12.2.140").within(None, V("12.2"))
    assert not V("12.3").within(None, V("12.2"))
    assert not V("11.7").within(V("11.8"), None)


def test_variant_names() -> None:
    assert cuda_variant(V("12.8")) == "cu128"
    assert variant_cuda("cu130") == V("13.0")
    assert variant_cuda("cu118") == V("11.8")
    assert variant_cuda("cpu") is None


def test_arch_flags() -> None:
    got = parse_arch_flags(["sm_75 sm_80", "sm_90a", "compute_120", "-gencode", "sm_100f"])
    assert got == [
        ArchTarget(capability=V("7.5")),
        ArchTarget(capability=V("8.0")),
        ArchTarget(capability=V("9.0"), variant="a"),
        ArchTarget(capability=V("12.0"), ptx=True),
        ArchTarget(capability=V("10.0"), variant="f"),
    ]
    assert [str(t) for t in got] == ["sm_75", "sm_80", "sm_90a", "compute_120", "sm_100f"]


def test_arch_list_items() -> None:
    assert ArchTarget.from_arch_list_item("12.0+PTX") == [
        ArchTarget(capability=V("12.0")),
        ArchTarget(capability=V("12.0"), ptx=True),
    ]
    assert ArchTarget.from_arch_list_item("8.6") == [ArchTarget(capability=V("8.6"))]
