"""EL-EXT-* checks: each fires on, and stays quiet on, the recorded H100 host (tests/
facts_builders.py h100_host: torch 2.14.1+cu130, an H100 at 9.0) with an `extensions`
section that the real scanner (probe/extensions.py) wrote for a real binary: tiny
extensions built here with nvcc for chosen targets, and the torchvision wheels on the
package index, scanned against the CUDA venv's torch libraries."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import Any

import pytest

from envlock.checks import run_checks
from envlock.facts import Facts
from envlock.findings import Finding, Severity
from envlock.probe import extensions
from tests.ext_assets import nvcc_extension, torchvision_dir
from tests.facts_builders import edit, h100_host


def _torch_dir(python: Path) -> str:
    return str(next(python.parent.parent.glob("lib/python3*/site-packages/torch")))


def _scan(path: Path, torch_python: Path | None = None, **who: str) -> dict[str, Any]:
    libs = extensions.torch_libraries(_torch_dir(torch_python)) if torch_python else []
    lookup = extensions._TorchExports(libs)
    try:
        entry = extensions.scan_file(str(path), lookup if libs else None)
    finally:
        lookup.close()
    assert entry["links"], "the scanner keeps only files that link torch or CUDA"
    return {"distribution": who.get("dist", "envlock-test-ext"), "version": "0.1", **entry}


def _with(facts: Facts, *items: dict[str, Any]) -> Facts:
    data = facts.to_dict()
    data["extensions"] = {"unavailable": None, "files_scanned": len(items), "items": list(items)}
    return Facts.from_dict(data)


def _found(facts: Facts, check_id: str) -> list[Finding]:
    return [f for f in run_checks(facts) if f.check_id == check_id]


# ------------------------------------------------------------------- arch
def test_sm80_only_extension_on_h100_is_unsupported() -> None:
    facts = _with(h100_host(), _scan(nvcc_extension("sm80")))
    (f,) = _found(facts, "EL-EXT-ARCH-UNSUPPORTED")
    assert f.severity is Severity.ERROR
    assert "sm_80 only" in f.message and "compute capability 9.0" in f.message
    assert f.evidence["extension.sass"] == ["sm_80"] and f.evidence["extension.ptx"] == []
    assert f.fix is not None and "TORCH_CUDA_ARCH_LIST=9.0" in f.fix
    assert _found(facts, "EL-EXT-ARCH-PTX-ONLY") == []


def test_compute80_ptx_extension_on_h100_runs_through_jit() -> None:
    facts = _with(h100_host(), _scan(nvcc_extension("ptx80")))
    (f,) = _found(facts, "EL-EXT-ARCH-PTX-ONLY")
    assert f.severity is Severity.WARNING and "compute_80 PTX" in f.message
    assert _found(facts, "EL-EXT-ARCH-UNSUPPORTED") == []


@pytest.mark.parametrize("build", ["sm90-ptx90", "torchvision-0.29.1"])
def test_extension_with_sm90_sass_is_quiet_on_h100(build: str) -> None:
    path = (
        torchvision_dir("0.29.1") / "torchvision/_C_stable.so"
        if build.startswith("torchvision")
        else nvcc_extension(build)
    )
    facts = _with(h100_host(), _scan(path))
    assert _found(facts, "EL-EXT-ARCH-UNSUPPORTED") == []
    assert _found(facts, "EL-EXT-ARCH-PTX-ONLY") == []


def test_sm80_extension_is_quiet_without_a_gpu_of_known_capability() -> None:
    facts = _with(h100_host(), _scan(nvcc_extension("sm80")))
    facts = edit(facts, "driver", dataclasses.replace(facts.driver, gpus=[]))
    assert facts.torch.live is not None
    facts = edit(facts, "torch.live", dataclasses.replace(facts.torch.live, devices=[]))
    assert _found(facts, "EL-EXT-ARCH-UNSUPPORTED") == []


# ------------------------------------------------------------- torch ABI
def test_torchvision_built_for_another_torch_misses_a_c10_symbol(cuda_python: Path) -> None:
    """torchvision 0.28.0 (built for torch 2.13) needs c10::cuda::c10_cuda_check_implementation
    with the 2.13 signature; torch 2.14.1 exports it with one more parameter."""
    item = _scan(torchvision_dir("0.28.0") / "torchvision/_C.so", cuda_python, dist="torchvision")
    item["version"] = "0.28.0"
    (f,) = _found(_with(h100_host(), item), "EL-EXT-TORCH-ABI")
    assert f.severity is Severity.ERROR
    assert "_ZN3c104cuda29c10_cuda_check_implementationEiPKcS2_jb" in f.message
    assert "undefined symbol" in f.message
    # the fix for a family member is the release of torch's row, from torch's index
    assert (
        f.fix
        == 'pip install "torchvision==0.29.*" --index-url https://download.pytorch.org/whl/cu130'
    )


def test_torchvision_built_for_this_torch_is_quiet(cuda_python: Path) -> None:
    item = _scan(torchvision_dir("0.29.1") / "torchvision/_C_stable.so", cuda_python)
    assert item["missing_torch_symbols_total"] == 0 and item["torch_symbols"] > 50
    facts = _with(h100_host(), item)
    assert facts.torch.live is not None
    facts = edit(facts, "torch.live", dataclasses.replace(facts.torch.live, cxx11_abi=True))
    assert _found(facts, "EL-EXT-TORCH-ABI") == []


def test_abi_flag_differing_from_torchs_fires(cuda_python: Path) -> None:
    item = _scan(torchvision_dir("0.29.1") / "torchvision/_C_stable.so", cuda_python)
    assert item["cxx11_abi"] is True  # it needs std::__cxx11 names
    facts = _with(h100_host(), item)
    assert facts.torch.live is not None
    facts = edit(facts, "torch.live", dataclasses.replace(facts.torch.live, cxx11_abi=False))
    (f,) = _found(facts, "EL-EXT-TORCH-ABI")
    assert "_GLIBCXX_USE_CXX11_ABI=1" in f.message and "with 0" in f.message


# ------------------------------------------------------------ CUDA major
def _relinked(tmp_path: Path, major: int) -> Path:
    """The nvcc-built sm_90 extension with DT_NEEDED libcudart.so.13 rewritten to .so.<major>
    (same length, in .dynstr): a real ELF that links another CUDA runtime."""
    src = nvcc_extension("sm90-ptx90")
    out = tmp_path / f"cu{major}.so"
    shutil.copyfile(src, out)
    data = out.read_bytes()
    assert data.count(b"libcudart.so.13\0") >= 1
    out.write_bytes(data.replace(b"libcudart.so.13\0", f"libcudart.so.{major}\0".encode()))
    return out


def test_extension_linking_cuda_12_runtime_in_cuda_13_torch(tmp_path: Path) -> None:
    item = _scan(_relinked(tmp_path, 12))
    assert item["cuda_major"] == 12
    (f,) = _found(_with(h100_host(), item), "EL-EXT-CUDA-MAJOR")
    assert "libcudart.so.12" in f.message and "CUDA 13.0" in f.message
    assert f.fix is not None and "for CUDA 13" in f.fix


def test_extension_linking_torchs_cuda_major_is_quiet() -> None:
    item = _scan(nvcc_extension("sm90-ptx90"))
    assert item["cuda_major"] == 13
    assert _found(_with(h100_host(), item), "EL-EXT-CUDA-MAJOR") == []
