"""Every pip line checks/hints.install_line prints is one pip and the shell read as meant
(R2, session 11): for a random matrix road (any torch series and build torch.toml holds,
the family members paired with it, what is installed, what conda holds, PyPI's own build),
each command of the line splits with the shell's grammar (shlex), each requirement parses
with pip's own parser (packaging) as an exact or X.Y.* pin of the road's release, every
tagged pin carries the road's tag, and every URL is one matrix/indexes.toml names for that
release and build. The old releases pytorch.org's page installs with exact tagged pins
(-f .../torch_stable.html, PyPI's untagged default, 1.0-1.1's download pages) included."""

from __future__ import annotations

import re
import shlex

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.requirements import Requirement
from packaging.version import Version as PipVersion

from envlock.checks.hints import CONDA_TORCH_FAMILY, install_line
from envlock.matrix import Version, load_matrix
from envlock.matrix.advice import INDEX_URL
from envlock.matrix.family import load_family, load_indexes
from tests.fuzz.test_fuzz import FUZZ

pytestmark = pytest.mark.fuzz

LINE_FUZZ = settings(FUZZ, deadline=None)
_ROADS = sorted(
    (r.release, v) for r in load_matrix().torch for v in {"cpu", *(x.name for x in r.variants)}
)
_OPTIONS = ("--index-url", "--extra-index-url", "-f")
# 1.0-1.1's page gives no pip line: the wheels downloaded from the build's page
_DOWNLOAD = re.compile(r"^download the wheels of (.+) for this Python from (\S+) and pip")


@st.composite
def roads(draw: st.DrawFn) -> tuple[Version, str, dict[str, Version], dict[str, str]]:
    release, variant = draw(st.sampled_from(_ROADS))
    row = load_family().row_for_torch(release)
    members = dict(row.members) if row is not None else {}
    members.pop("triton", None)
    pins = {m: s for m, s in members.items() if draw(st.booleans())}
    installed: dict[str, str] = {}
    for name in ("torch", *members):
        if draw(st.booleans()):
            series = release if name == "torch" else members[name]
            patch = draw(st.integers(0, 3))
            tag = draw(st.sampled_from(["", "+cpu", f"+{variant}", "+cu118", "+rocm4.2"]))
            installed[name] = f"{series}.{patch}{tag}"
    return release, variant, pins, installed


def _commands(line: str) -> list[str]:
    return [c.strip() for c in line.split(" && ")]


def _check_pin(text: str, release: Version, variant: str, names: set[str]) -> str:
    req = Requirement(text)
    (spec,) = req.specifier
    assert spec.operator == "==", text
    assert req.name in names, text
    if spec.version.endswith(".*"):
        return req.name
    version = PipVersion(spec.version)
    if req.name == "torch":
        assert version.release[:2] == release.parts[:2], text
    assert version.local in (None, variant.lower()), text
    return req.name


def _check_url(url: str, release: Version, variant: str) -> None:
    """An index or page the table names for this release and build (a series road: the
    page's release), or torch.toml's variant index for a series the table leaves to it."""
    road = load_indexes().page_road(release, variant)
    if road is not None:
        assert road.index is not None and url == road.index.url, url
        return
    assert url == f"{INDEX_URL}{variant}", url


@given(
    road=roads(),
    conda=st.lists(st.sampled_from(CONDA_TORCH_FAMILY), unique=True),
    pypi=st.booleans(),
)
@LINE_FUZZ
def test_every_install_line_parses_as_pip_and_the_shell_read_it(
    road: tuple[Version, str, dict[str, Version], dict[str, str]],
    conda: list[str],
    pypi: bool,
) -> None:
    release, variant, pins, installed = road
    line = install_line(
        release, variant, pins, tuple(conda), installed, pypi_build=pypi and variant == "cpu"
    )
    names = {"torch", *pins}
    pinned: list[str] = []
    for command in _commands(line):
        download = _DOWNLOAD.match(command)
        if download:
            pinned += [_check_pin(p, release, variant, names) for p in shlex.split(download[1])]
            _check_url(download[2], release, variant)
            continue
        words = shlex.split(command)
        assert words[0] in ("pip", "conda"), line
        if words[:2] == ["pip", "uninstall"]:
            assert words[2] == "-y" and set(words[3:]) <= names, line
            continue
        if words[0] == "conda":
            assert words[1:3] == ["remove", "--force"] and set(words[3:]) == set(conda), line
            continue
        assert words[1] == "install", line
        rest = words[2:]
        while rest:
            word = rest.pop(0)
            if word in _OPTIONS:
                _check_url(rest.pop(0), release, variant)
            else:
                pinned.append(_check_pin(word, release, variant, names))
    assert "torch" in pinned, line
