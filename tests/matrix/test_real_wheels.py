"""The matrix held to the real wheels in the provisioned venvs (.ci/run).

Each venv's torch reports its arch flags, cuDNN and NCCL, and its METADATA
states Requires-Python, the Python classifiers and the Requires-Dist pins of
the cuDNN and NCCL wheels: the matrix row of that build must say the same.
"""

from __future__ import annotations

import email.parser
import hashlib
import json
import os
import re
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

from envlock.matrix import ArchTarget, Version, load_matrix, parse_arch_flags, variant_cuda
from envlock.probe.elfscan import read_gpu_code
from tests.conftest import FIXTURES
from tests.matrix.fatbins import foreign_ptx

REPORT = r"""
import importlib.metadata as md, json, torch
d = md.distribution("torch")
cuda = torch.version.cuda
print(json.dumps({
    "version": torch.__version__,
    "cuda": cuda,
    "arch_flags": torch._C._cuda_getArchFlags() if cuda else None,
    "cudnn": torch.backends.cudnn.version() if cuda else None,
    "nccl": ".".join(map(str, torch.cuda.nccl.version())) if cuda else None,
    "requires_python": d.metadata["Requires-Python"],
    "classifiers": d.metadata.get_all("Classifier") or [],
    "requires_dist": d.requires or [],
}))
"""


def _report(python: Path) -> dict[str, Any]:
    out = subprocess.run(
        [str(python), "-c", REPORT], capture_output=True, text=True, timeout=300, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _pin(requires: list[str], name: str) -> Version | None:
    for req in requires:
        m = re.match(rf"{re.escape(name)}==([0-9.]+)", req.replace(" ", ""))
        if m:
            return Version.parse(m.group(1))
    return None


@pytest.fixture(params=["cpu_python", "cuda_python"])
def wheel(request: pytest.FixtureRequest) -> dict[str, Any]:
    return _report(request.getfixturevalue(request.param))


def test_python_range_matches_metadata(wheel: dict[str, Any]) -> None:
    release = load_matrix().torch_release(Version.parse(wheel["version"]))
    assert release is not None, wheel["version"]
    assert release.requires_python == wheel["requires_python"]
    minors = sorted(
        Version.parse(m.group(1))
        for c in wheel["classifiers"]
        if (m := re.fullmatch(r"Programming Language :: Python :: (3\.\d+)", c))
    )
    # the classifiers may name a Python no wheel is tagged for (2.13.0+cpu names 3.15):
    # the row's range, PyPI's tags (test_pypi_record.py), lies within them
    assert minors[0] <= release.python_min <= release.python_max <= minors[-1], wheel["version"]


def test_cuda_build_matches_the_matrix_row(cuda_python: Path) -> None:
    wheel = _report(cuda_python)
    m = load_matrix()
    variant = m.torch_variant(Version.parse(wheel["version"]), Version.parse(wheel["cuda"]))
    assert variant is not None and variant.targets is not None
    assert variant_cuda(variant.name) == Version.parse(wheel["cuda"]).truncate(2)
    real = {str(t) for t in parse_arch_flags([wheel["arch_flags"]])}
    assert {str(t) for t in variant.targets} == real
    cudnn = wheel["cudnn"]  # 92400 -> 9.24.0
    real_cudnn = Version((cudnn // 10000, cudnn // 100 % 100, cudnn % 100))
    assert variant.cudnn is not None and variant.cudnn.truncate(3) == real_cudnn
    assert variant.nccl == Version.parse(wheel["nccl"])
    major = variant.cuda.major
    pinned_cudnn = _pin(wheel["requires_dist"], f"nvidia-cudnn-cu{major}")
    assert pinned_cudnn is not None
    assert (variant.cudnn_pypi or variant.cudnn) == pinned_cudnn
    assert variant.nccl == _pin(wheel["requires_dist"], f"nvidia-nccl-cu{major}")


# ------------------------------------------------------------------------------------------
# Every torch wheel reachable here, read as files: libtorch_cuda.so's .nv_fatbin through
# envlock's own ELF reader, METADATA, torch/version.py. A wheel read once is recorded in
# tests/fixtures/wheel.*-recorded.json (provenance in the record), so the matrix is held to
# it where the wheel is gone; where the wheel is here, the same reading must give the record.

WHEEL_DIRS = ("/opt/wheels", "/opt/pypi-more/files", "/tmp/wh")
PROVENANCE = ("obtained", "wheel", "sha256")


def _wheel_dirs() -> list[Path]:
    """ENVLOCK_TORCH_WHEELS (os.pathsep-separated), else the wheelhouses provisioned here
    and the folder the 2.7.0 wheel was downloaded to (`pip download torch==2.7.0 -d /tmp/wh`)."""
    env = os.environ.get("ENVLOCK_TORCH_WHEELS")
    return [Path(p) for p in (env.split(os.pathsep) if env else WHEEL_DIRS) if p]


def reachable_wheels() -> list[Path]:
    return sorted(w for d in _wheel_dirs() if d.is_dir() for w in d.glob("torch-*.whl"))


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _fatbin(lib: Path) -> tuple[list[str], list[str]]:
    code = read_gpu_code(str(lib))
    assert code["partial"] is None, (lib, code["partial"])
    return sorted(set(code["sass"])), sorted(set(code["ptx"]))


def read_wheel(path: Path, workdir: Path) -> dict[str, Any]:
    """What the matrix says of a wheel, read from the wheel itself."""
    with zipfile.ZipFile(path) as z:
        meta_name = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        meta = email.parser.Parser().parsestr(z.read(meta_name).decode())
        version_py = z.read("torch/version.py").decode()
        version = re.search(r"^__version__\s*=\s*'([^']+)'", version_py, re.M)
        cuda = re.search(r"^cuda\b[^=\n]*=\s*'([^']+)'", version_py, re.M)
        sass: list[str] = []
        ptx: list[str] = []
        if cuda is not None:
            lib = Path(z.extract("torch/lib/libtorch_cuda.so", workdir))
            sass, ptx = _fatbin(lib)
            lib.unlink()
    assert version is not None
    return {
        "wheel": path.name,
        "sha256": _sha256(path),
        "version": version.group(1),
        "cuda": cuda.group(1) if cuda else None,
        "libtorch_cuda_sass": sass,
        "libtorch_cuda_ptx": ptx,
        "requires_python": meta["Requires-Python"],
        "python_classifiers": sorted(
            (m.group(1) for c in meta.get_all("Classifier") or [] if (m := _PY.fullmatch(c))),
            key=Version.parse,
        ),
        "pins": {
            name: pin
            for req in meta.get_all("Requires-Dist") or []
            if (m := _PIN.match(req))
            for name, pin in [m.groups()]
            if name.startswith(("nvidia-cudnn-", "nvidia-nccl-"))
        },
    }


_PY = re.compile(r"Programming Language :: Python :: (3\.\d+)")
_PIN = re.compile(r"([A-Za-z0-9_.-]+)\s*==\s*([0-9.]+)")


def _records() -> list[Path]:
    return sorted(
        p for p in FIXTURES.glob("wheel.torch-*-recorded.json") if "-fatbins-" not in p.name
    )


def hold_matrix(record: dict[str, Any]) -> None:
    """The matrix row of the wheel's release and variant says what the wheel holds."""
    m = load_matrix()
    release = m.torch_release(Version.parse(record["version"]))
    assert release is not None, record["version"]
    assert release.requires_python == record["requires_python"]
    # the wheel's own Python tag is in the row's range (the range is PyPI's tags, held by
    # test_pypi_record.py; classifiers are not: 1.11's stop at 3.9 beside its cp310 wheels)
    tag = re.search(r"-cp(\d)(\d+)-", record.get("wheel", ""))
    if tag:
        assert release.supports_python(Version.parse(f"{tag.group(1)}.{tag.group(2)}"))
    if record["cuda"] is None:
        return
    variant = m.torch_variant(Version.parse(record["version"]), Version.parse(record["cuda"]))
    assert variant is not None and variant.targets is not None, record["version"]
    sass = {str(t) for t in variant.targets if not t.ptx}
    ptx = {str(t) for t in variant.targets if t.ptx}
    found = set(record["libtorch_cuda_sass"])
    found_ptx = set(record["libtorch_cuda_ptx"])
    # every listed SASS target is in the binary and every listed PTX target too
    assert sass <= found, sorted(sass - found)
    assert ptx <= found_ptx, sorted(ptx - found_ptx)
    # PTX the row does not list (1.x wheels link NCCL and MAGMA into one library, whose
    # kernels are built for their own targets): the row must say it is UNVERIFIED, unless the
    # wheel read fatbin by fatbin puts that PTX only in units of such a library
    confirmed = found_ptx - _foreign_ptx(record.get("sha256"), sass) == ptx
    assert ("arch-list" not in variant.unverified) is confirmed, (record["version"], found_ptx)
    # the binary's other targets are not held: single kernels (sm_89, sm_103, sm_90a), the
    # kernels of libraries 1.x links in (NCCL, MAGMA: sm_30, sm_35) and the few sm_50/sm_60
    # kernels of 2.8-2.10's cu128 wheels, whose release notes say these builds dropped
    # Maxwell and Pascal; a target set does not say which operators it serves
    assert all(ArchTarget.from_flag(f) is not None for f in found)
    pins = record["pins"]
    major = variant.cuda.major
    if f"nvidia-cudnn-cu{major}" in pins:
        want = Version.parse(pins[f"nvidia-cudnn-cu{major}"])
        assert (variant.cudnn_pypi or variant.cudnn) == want
    if f"nvidia-nccl-cu{major}" in pins:
        assert variant.nccl == Version.parse(pins[f"nvidia-nccl-cu{major}"])


def _foreign_ptx(sha256: str | None, row_sass: set[str]) -> set[str]:
    """PTX its fatbins record (test_fatbin_groups.py) traces to another library's units."""
    for path in FIXTURES.glob("wheel.torch-*-fatbins-recorded.json"):
        groups = json.loads(path.read_text())
        if groups["sha256"] == sha256:
            return foreign_ptx(groups["groups"], row_sass)
    return set()


@pytest.mark.parametrize("path", _records(), ids=lambda p: p.name)
def test_recorded_wheel_holds_the_matrix(path: Path) -> None:
    hold_matrix(json.loads(path.read_text()))


def test_a_wheel_is_recorded() -> None:
    """The records exist, one per wheel, with where each came from."""
    records = [json.loads(p.read_text()) for p in _records()]
    assert {r["version"] for r in records} >= {"2.7.0+cu126"}
    for r in records:
        assert r["obtained"] and re.fullmatch(r"[0-9a-f]{64}", r["sha256"])


# A wheel's hash and fatbin read scale with its size: the 865 MB 2.7.0 one takes 30-60 s,
# so the big ones are read at the full depth only (their records are held above anyway).
BIG_WHEEL = 600 << 20


def _wheel_params() -> list[Any]:
    slow = pytest.mark.slow
    return [
        pytest.param(w, marks=slow) if w.stat().st_size > BIG_WHEEL else w
        for w in reachable_wheels()
    ]


@pytest.mark.parametrize("wheel_path", _wheel_params(), ids=lambda p: p.name)
def test_reachable_wheel_holds_the_matrix(wheel_path: Path, tmp_path: Path) -> None:
    record = read_wheel(wheel_path, tmp_path)
    hold_matrix(record)
    for path in _records():
        recorded = json.loads(path.read_text())
        if recorded["sha256"] == record["sha256"]:
            # the record says what this reader reads from the wheel, key for key
            assert {k: v for k, v in recorded.items() if k != "obtained"} == record


def test_cuda_venv_library_holds_the_matrix(cuda_python: Path) -> None:
    """The provisioned CUDA venv's libtorch_cuda.so through the same reader."""
    out = subprocess.run(
        [str(cuda_python), "-c", _LIB],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    info = json.loads(out.stdout.strip().splitlines()[-1])
    sass, ptx = _fatbin(Path(info["lib"]))
    hold_matrix(
        {
            "version": info["version"],
            "cuda": info["cuda"],
            "libtorch_cuda_sass": sass,
            "libtorch_cuda_ptx": ptx,
            "requires_python": info["requires_python"],
            "python_classifiers": info["classifiers"],
            "pins": {},  # held by test_cuda_build_matches_the_matrix_row
        }
    )


# without importing torch: where it is, and what its METADATA says
_LIB = r"""
import importlib.metadata as md, json, re
d = md.distribution("torch")
ns = {}
version_py = d.locate_file("torch/version.py").read_text()
ns["__version__"] = re.search(r"^__version__\s*=\s*'([^']+)'", version_py, re.M).group(1)
ns["cuda"] = re.search(r"^cuda\b[^=\n]*=\s*'([^']+)'", version_py, re.M).group(1)
lib = d.locate_file("torch/lib/libtorch_cuda.so")
classifiers = [m.group(1) for c in d.metadata.get_all("Classifier") or []
               if (m := re.fullmatch(r"Programming Language :: Python :: (3\.\d+)", c))]
classifiers.sort(key=lambda v: tuple(map(int, v.split("."))))
print(json.dumps({"version": ns["__version__"], "cuda": ns["cuda"], "lib": str(lib),
                  "requires_python": d.metadata["Requires-Python"], "classifiers": classifiers}))
"""
