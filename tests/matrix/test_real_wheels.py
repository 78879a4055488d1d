"""The matrix held to the real wheels in the provisioned venvs (.ci/run).

Each venv's torch reports its arch flags, cuDNN and NCCL, and its METADATA
states Requires-Python, the Python classifiers and the Requires-Dist pins of
the cuDNN and NCCL wheels: the matrix row of that build must say the same.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from envlock.matrix import Version, load_matrix, parse_arch_flags, variant_cuda

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
    assert (str(release.python_min), str(release.python_max)) == (
        str(minors[0]),
        str(minors[-1]),
    ), wheel["version"]


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
