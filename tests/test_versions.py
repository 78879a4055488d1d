"""envlock.versions on real version strings, and the stdlib copies held to it.

The probe (stdlib only, copied into containers) and the child scripts
(probe/_torch_child.py, determinism/suite.py) cannot import `packaging`, so
they carry their own small decoders and parsers. Each is run here on the
same table as the host-side code, which must read their output the same way.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from envlock import versions
from envlock.determinism import suite as determinism_suite
from envlock.matrix import Version
from envlock.probe import _torch_child, cudalibs, nvml, torch_info

# (text, release tuple, pre-release?, local tag)
REAL = [
    ("2.14.1+cu130", (2, 14, 1), False, "cu130"),
    ("2.13.0+cpu", (2, 13, 0), False, "cpu"),
    ("2.6.0a0+ecf3bae40a", (2, 6, 0), True, "ecf3bae40a"),
    ("2.5.0.dev20240801+cu124", (2, 5, 0), True, "cu124"),
    ("580.65.06", (580, 65, 6), False, None),
    ("570.86.15", (570, 86, 15), False, None),
    ("535.104.05", (535, 104, 5), False, None),
    ("470.256.02", (470, 256, 2), False, None),
    ("13.0", (13, 0), False, None),
    ("12.8", (12, 8), False, None),
    ("11.8", (11, 8), False, None),
    ("9.24.0", (9, 24, 0), False, None),
    ("9.10.2", (9, 10, 2), False, None),
    ("2.30.7", (2, 30, 7), False, None),
    ("2.36", (2, 36), False, None),
]
TORCH = [text for text, *_ in REAL[:4]]


@pytest.mark.parametrize(("text", "release", "pre", "local"), REAL)
def test_parse_real_versions(
    text: str, release: tuple[int, ...], pre: bool, local: str | None
) -> None:
    v = versions.parse(text)
    assert v.release == release == versions.release(text) == Version.parse(text).parts
    assert v.is_prerelease is pre
    assert v.local == local
    assert str(Version.parse(text)) == text  # as written, leading zeros kept


def test_order() -> None:
    p = versions.parse
    assert p("2.6.0a0+ecf3bae40a") < p("2.6.0") < p("2.6.0+cu124")
    assert p("2.5.0.dev20240801+cu124") < p("2.5.0")
    assert p("535.104.05") < p("570.86.15") < p("580.65.06")
    assert p("470.256.02") > p("470.82.01")  # integers, not strings
    assert p("12.10") > p("12.9") and p("13.0") == p("13")


@pytest.mark.parametrize(
    ("observed", "locked", "ok"),
    [
        ("2.14.1+cu130", "2.14.1+cu130", True),
        ("2.14.1+cu126", "2.14.1+cu130", True),  # the local tag is a build, not a newer release
        ("2.14.1", "2.14.1+cu130", True),
        ("2.14.0+cu130", "2.14.1", False),
        ("2.6.0a0+ecf3bae40a", "2.6.0", False),  # a pre-release is older than its release
        ("2.6.0", "2.6.0a0+ecf3bae40a", True),
        ("2.5.0.dev20240801+cu124", "2.5.0.dev20240701+cu124", True),
        ("580.65.06", "570.86.15", True),
        ("535.104.05", "570.86.15", False),
        ("470.256.02", "470.82.01", True),
        ("13.0", "12.8", True),
        ("12.8", "13.0", False),
        ("12.10", "12.9", True),
        ("2.36", "2.36.0", True),
        ("2.35", "2.36", False),
        ("2.36-ubuntu", "2.35", True),  # not PEP 440: the leading numbers compare
        ("12.4.r12.4", "12.4", True),
        ("unknown", "2.36", False),
        ("2.36", "unknown", False),
        ("unknown", "unknown", True),
        ("", "", True),
    ],
)
def test_at_least(observed: str, locked: str, ok: bool) -> None:
    assert versions.at_least(observed, locked) is ok


def test_parse_or_none_never_raises() -> None:
    assert versions.parse_or_none(None) is None
    assert versions.parse_or_none("unknown") is None
    assert versions.parse_or_none("cu130") is None
    assert versions.release("n/a") == ()
    with pytest.raises(ValueError):
        versions.parse("cu130")


# ------------------------------------------------------------ stdlib copies
def _fake_torch(version: str, cudnn: int | None = None) -> Any:
    return SimpleNamespace(
        __version__=version,
        backends=SimpleNamespace(cudnn=SimpleNamespace(version=lambda: cudnn)),
    )


@pytest.mark.parametrize("text", TORCH)
@pytest.mark.parametrize("before", [(2, 5), (2, 6), (2, 10), (2, 14), (2, 15)])
def test_suite_torch_before_reads_the_release(text: str, before: tuple[int, int]) -> None:
    # torch's feature gates go by release: NGC's 2.6.0a0 snapshot has 2.6's flags.
    want = versions.release(text)[:2] < before
    assert determinism_suite._torch_before(_fake_torch(text), before) is want


@pytest.mark.parametrize("text", TORCH)
def test_probe_build_tag_is_the_pep440_local_tag(text: str) -> None:
    assert torch_info.build_tag(text, None, None) == versions.parse(text).local


# torch.backends.cudnn.version() and torch.cuda.nccl.version() packed integers
CUDNN = [(92400, "9.24.0"), (91002, "9.10.2"), (90100, "9.1.0"), (8902, "8.9.2"), (8700, "8.7.0")]
NCCL = [((2, 30, 7), "2.30.7"), (23007, "2.30.7"), (22103, "2.21.3"), (2708, "2.7.8")]
CUDA = [(13000, "13.0"), (12080, "12.8"), (12040, "12.4"), (11080, "11.8")]


@pytest.mark.parametrize(("packed", "text"), CUDNN)
def test_cudnn_decoders_agree(packed: int, text: str) -> None:
    child = _torch_child.decode_cudnn(packed)
    suite = determinism_suite._cudnn_version(_fake_torch("2.14.1", packed))
    assert child == suite == text
    assert versions.parse(child).release == tuple(int(p) for p in text.split("."))


@pytest.mark.parametrize(("packed", "text"), NCCL)
def test_nccl_decoder(packed: Any, text: str) -> None:
    assert _torch_child.decode_nccl(packed) == text


@pytest.mark.parametrize(("packed", "text"), CUDA)
def test_cuda_decoder(packed: int, text: str) -> None:
    got = nvml.decode_cuda_version(packed)
    assert got == text and versions.parse(got) == versions.parse(text)


DRIVERS = ["580.65.06", "570.86.15", "535.104.05", "470.256.02"]


@pytest.mark.parametrize("driver", DRIVERS)
def test_driver_parsers_agree(driver: str, monkeypatch: pytest.MonkeyPatch) -> None:
    proc = (
        f"NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  {driver}  Release Build  "
        "(dvs-builder@U22-I3-AE18-23-3)  Mon Jul 14 2025\nGCC version:  gcc version 12.2.0\n"
    )
    assert nvml.parse_nvrm_version(proc) == driver
    assert nvml.library_version_from_path(f"/usr/lib/libnvidia-ml.so.{driver}") == driver
    files = {"/sys/module/nvidia/version": None, "/proc/driver/nvidia/version": proc}
    monkeypatch.setattr(determinism_suite, "_read", files.get)
    assert determinism_suite._driver_version() == driver
    assert Version.parse(driver).parts == versions.release(driver)


@pytest.mark.parametrize(
    ("out", "text"),
    [
        ("Cuda compilation tools, release 13.0, V13.0.48\n", "13.0.48"),
        ("Cuda compilation tools, release 12.8, V12.8.93\n", "12.8.93"),
        ("Cuda compilation tools, release 11.8\n", "11.8"),
    ],
)
def test_nvcc_parser(out: str, text: str) -> None:
    got = cudalibs.parse_nvcc_version(out)
    assert got == text and versions.release(got)[:2] == versions.release(text)[:2]
