"""triton.toml and family.toml's Triton pins held to the wheels (sources TW and P).

tests/fixtures/pypi.triton-ptxas-recorded.json is what `python -m tests.matrix.record_triton`
read from PyPI: each torch 2.X.0 wheel's Requires-Dist on triton, and each pinned triton
wheel's bundled assemblers ('Cuda compilation tools, release 12.4, V12.4.99' inside the
binary). Where a wheel is here (the provisioned venv's torch 2.14.1 with its triton 3.8.0,
the wheelhouses' triton 3.6.0 and 3.8.0, the CPU torch 2.13.0), it is read again and must
say the same.
"""

from __future__ import annotations

import email.parser
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest

from envlock.matrix import Version
from envlock.matrix.family import load_family
from envlock.matrix.triton import load_triton
from tests.conftest import VENV_ROOT, load_fixture_json
from tests.matrix.record_triton import _TRITON_REQ, PTXAS

RECORD: dict[str, Any] = load_fixture_json("pypi.triton-ptxas-recorded.json")
TRITON_WHEELS = ("/opt/pypi/files", "/opt/pypi-more/files", "/opt/wheels")


def _series(version: str) -> Version:
    return Version.parse(version).truncate(2)


@pytest.mark.parametrize("line", sorted(RECORD["torch"], key=Version.parse))
def test_family_rows_pin_the_triton_torch_requires(line: str) -> None:
    pinned = RECORD["torch"][line]["triton"]
    row = load_family().row_for_torch(Version.parse(line))
    assert row is not None and row.members.get("triton") == _series(pinned), line
    assert "P" in row.source
    assert load_triton().release(Version.parse(pinned)) is not None, pinned


@pytest.mark.parametrize("series", [str(r.release) for r in load_triton().releases])
def test_triton_rows_are_the_assemblers_read(series: str) -> None:
    row = load_triton().release(Version.parse(series))
    assert row is not None and "TW" in row.source
    read = {v: r for v, r in RECORD["triton"].items() if _series(v) == row.release}
    assert {str(v) for v in row.read} == set(read)
    for record in read.values():
        assert Version.parse(record["ptxas"]["ptxas"]) == row.ptxas
        blackwell = record["ptxas"].get("ptxas-blackwell")
        assert row.ptxas_blackwell == (Version.parse(blackwell) if blackwell else None)
        arch = record.get("blackwell_from_arch")  # compiler.py: arch >= 100 is 10.0
        want = Version((arch // 10, arch % 10)) if arch else None
        assert row.blackwell_from == want


def test_every_torch_2_release_is_recorded() -> None:
    assert set(RECORD["torch"]) == {f"2.{n}" for n in range(15)}
    assert all(p["triton"] for p in RECORD["torch"].values())


# ------------------------------------------------------------- the wheels reachable here
def _assemblers(files: dict[str, bytes]) -> dict[str, Version]:
    found = {}
    for name, data in files.items():
        m = PTXAS.search(data)
        assert m is not None, name
        found[name.rsplit("/", 1)[1]] = Version.parse(m.group(2).decode())
    return found


def _wheel_assemblers(path: Path) -> tuple[Version, dict[str, Version]]:
    with zipfile.ZipFile(path) as z:
        names = [n for n in z.namelist() if re.search(r"/bin/ptxas(-blackwell)?$", n)]
        version = re.match(r"triton-([0-9.]+)-", path.name)
        assert version is not None
        return Version.parse(version.group(1)), _assemblers({n: z.read(n) for n in names})


def _reachable_tritons() -> list[Path]:
    return sorted(w for d in TRITON_WHEELS for w in Path(d).glob("triton-*.whl"))


def _check_assemblers(version: Version, found: dict[str, Version]) -> None:
    row = load_triton().release(version)
    assert row is not None, version
    assert found["ptxas"] == row.ptxas
    assert found.get("ptxas-blackwell") == row.ptxas_blackwell


@pytest.mark.parametrize("path", _reachable_tritons(), ids=lambda p: p.name)
def test_reachable_triton_wheels_bundle_the_rows_assemblers(path: Path) -> None:
    _check_assemblers(*_wheel_assemblers(path))


def _site_packages(venv: str) -> Path:
    found = sorted((VENV_ROOT / venv).glob("lib/python3*/site-packages"))
    if not found:
        pytest.skip(f"no {venv} venv here")
    return found[0]


def _torch_metadata(site: Path) -> email.message.Message:
    (meta,) = site.glob("torch-*.dist-info/METADATA")
    return email.parser.Parser().parsestr(meta.read_text())


def _triton_pin(meta: email.message.Message) -> str | None:
    pins = [m.group(3) for r in meta.get_all("Requires-Dist") or [] if (m := _TRITON_REQ.match(r))]
    return pins[0] if pins else None


def test_cuda_venv_torch_pins_the_triton_it_holds_and_its_assemblers_are_the_rows() -> None:
    site = _site_packages("torch-cuda")
    meta = _torch_metadata(site)
    pin = _triton_pin(meta)
    assert pin is not None
    row = load_family().row_for_torch(Version.parse(meta["Version"]))
    assert row is not None and row.members["triton"] == _series(pin)
    (dist,) = site.glob("triton-*.dist-info")
    installed = Version.parse(dist.name.split("-")[1].removesuffix(".dist-info"))
    assert installed.truncate(2) == _series(pin)
    bins = site / "triton/backends/nvidia/bin"
    files = {str(p): p.read_bytes() for p in bins.glob("ptxas*")}
    _check_assemblers(installed, _assemblers(files))


def test_cpu_venv_torch_pins_no_triton() -> None:
    """The CPU wheel (2.13.0+cpu) requires no Triton: a CPU torch implies no Triton."""
    meta = _torch_metadata(_site_packages("torch-cpu"))
    assert meta["Version"].endswith("+cpu") and _triton_pin(meta) is None
