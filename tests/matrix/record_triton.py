"""Record the Triton each torch release pins and the CUDA of the ptxas each Triton bundles.

`python -m tests.matrix.record_triton` reads, with HTTP range requests (the zip's central
directory, then one member; never the whole wheel):
- of every torch X.Y.0 (2.0-2.14) cp311 Linux x86_64 wheel on PyPI, its METADATA's
  Requires-Dist on triton (`triton==X`, `triton~=X`; the build a plain `pip install` gets);
- of every Triton release so pinned, its cp311 Linux x86_64 wheel's bundled ptxas
  (`triton/third_party/cuda/bin/ptxas` in 2.x, `triton/backends/nvidia/bin/ptxas` and, from
  3.4, `ptxas-blackwell` in 3.x): the binary's own 'Cuda compilation tools, release X, VX.Y.Z'.
It writes tests/fixtures/pypi.triton-ptxas-recorded.json, which tests/matrix/test_triton_table.py
holds matrix/triton.toml to, offline.
"""

from __future__ import annotations

import datetime
import email.parser
import json
import re
import urllib.request
from typing import Any

from tests.conftest import FIXTURES
from tests.matrix.record_pypi import _zip_member

SIMPLE = "https://pypi.org/simple/{}/"
RECORD = FIXTURES / "pypi.triton-ptxas-recorded.json"
PTXAS = re.compile(rb"Cuda compilation tools, release ([0-9.]+), V([0-9.]+)")
_TRITON_REQ = re.compile(r"^(triton|pytorch-triton)\s*\(?\s*(==|~=)\s*([0-9.]+)")
_BINARIES = ("ptxas", "ptxas-blackwell")
# compiler.py's choice of assembler: `"ptxas-blackwell" if arch >= 100 else "ptxas"` (3.3),
# `knobs.nvidia.ptxas_blackwell if arch >= 100 else knobs.nvidia.ptxas` (3.6 on)
_SELECT = re.compile(r"ptxas[-_]blackwell\"? if arch >= (\d+)")


def _files(project: str) -> list[dict[str, Any]]:
    request = urllib.request.Request(
        SIMPLE.format(project), headers={"Accept": "application/vnd.pypi.simple.v1+json"}
    )
    with urllib.request.urlopen(request, timeout=120) as r:
        files: list[dict[str, Any]] = json.loads(r.read())["files"]
    return files


def _cp311_wheel(files: list[dict[str, Any]], project: str, version: str) -> dict[str, Any]:
    """The cp311 Linux x86_64 wheel of `version` (a build-tagged re-upload sorts after it)."""
    name = project.replace("-", "_")
    found = [
        f
        for f in files
        if re.match(rf"{re.escape(name)}-{re.escape(version)}(-\d+)?-cp311-cp311-", f["filename"])
        and "linux" in f["filename"]
        and "x86_64" in f["filename"]
    ]
    return sorted(found, key=lambda f: f["filename"])[0]


def _torch_pin(files: list[dict[str, Any]], line: str) -> dict[str, str | None]:
    wheel = _cp311_wheel(files, "torch", f"{line}.0")
    meta = _zip_member(wheel["url"], wheel["size"], f"torch-{line}.0.dist-info/METADATA")
    message = email.parser.Parser().parsestr(meta.decode())
    pins = [
        m.groups()
        for req in message.get_all("Requires-Dist") or []
        if (m := _TRITON_REQ.match(req)) and "Linux" in req
    ]
    (project, operator, version), *_ = pins or [(None, None, None)]
    return {
        "wheel": wheel["filename"],
        "sha256": wheel["hashes"]["sha256"],
        "requires": f"{project}{operator}{version}" if project else None,
        "triton": version,
    }


def _member_names(major: int) -> list[str]:
    root = "triton/third_party/cuda/bin/" if major < 3 else "triton/backends/nvidia/bin/"
    return [root + b for b in _BINARIES]


def _ptxas(files: list[dict[str, Any]], version: str) -> dict[str, Any]:
    wheel = _cp311_wheel(files, "triton", version)
    found: dict[str, str] = {}
    for name in _member_names(int(version.split(".")[0])):
        try:
            binary = _zip_member(wheel["url"], wheel["size"], name)
        except LookupError:
            continue  # 3.3 and older bundle no ptxas-blackwell
        m = PTXAS.search(binary)
        if m is not None:
            found[name.rsplit("/", 1)[1]] = m.group(2).decode()
    out: dict[str, Any] = {"wheel": wheel["filename"], "sha256": wheel["hashes"]["sha256"]}
    out["ptxas"] = found
    if "ptxas-blackwell" in found:
        source = _zip_member(wheel["url"], wheel["size"], "triton/backends/nvidia/compiler.py")
        select = _SELECT.search(source.decode())
        out["blackwell_from_arch"] = int(select.group(1)) if select else None
    return out


def record() -> dict[str, Any]:
    torch_files = _files("torch")
    pins = {f"2.{n}": _torch_pin(torch_files, f"2.{n}") for n in range(15)}
    triton_files = _files("triton")
    tritons = sorted({p["triton"] for p in pins.values() if p["triton"]})
    return {
        "obtained": f"python -m tests.matrix.record_triton ({datetime.date.today()}): "
        "PyPI's simple JSON API; METADATA of each torch X.Y.0 cp311 Linux x86_64 wheel and "
        "the bundled ptxas binaries of each pinned triton's cp311 wheel, by HTTP range requests",
        "torch": pins,
        "triton": {v: _ptxas(triton_files, v) for v in tritons},
    }


if __name__ == "__main__":
    RECORD.write_text(json.dumps(record(), indent=2) + "\n")
    print(RECORD)
