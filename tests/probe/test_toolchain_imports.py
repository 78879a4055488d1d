"""The toolchain section reads pip's version from the probe's own scan of sys.path:
importlib.metadata (and the email package under it) cost more than the whole section,
on every doctor run (issue 23)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

SCRIPT = """
import sys
sys.modules.pop("importlib.metadata", None)
before = set(sys.modules)
from envlock.probe import toolchain
doc = toolchain.collect()
new = sorted(m for m in set(sys.modules) - before if m == "importlib.metadata" or m == "email")
print(doc["pip"])
print(",".join(new))
"""


def test_the_toolchain_section_imports_no_importlib_metadata() -> None:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, cwd=REPO, check=True
    ).stdout.splitlines()
    assert out[1:] in ([], [""])


def test_pip_version_is_the_one_importlib_metadata_finds() -> None:
    from importlib import metadata

    from envlock.probe import toolchain

    try:
        expected = metadata.version("pip")
    except metadata.PackageNotFoundError:
        pytest.skip("no pip in this interpreter")
    assert toolchain.pip_version() == expected


def test_no_pip_is_none(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from envlock.probe import _dists, toolchain

    monkeypatch.setattr(_dists, "distributions", lambda path=None: {})
    assert toolchain.pip_version() is None
