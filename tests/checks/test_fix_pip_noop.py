"""A printed pip line must change what it names (session 6 review, helper X).

pip leaves an installed distribution alone when its version already satisfies the
requirement: `pip install "torch==2.2.*" --index-url .../cu121` beside an installed
torch 2.2.2 (PyPI's CPU wheel on Windows, pytorch/pytorch#122924) prints "Requirement
already satisfied" and changes nothing, because `==2.2.*` ignores the local label
(`+cpu`, `+cu117`). Every fix that swaps the CUDA variant of the same release hit this:
the CPU-only, no-driver, arch and driver fixes. This test reads each printed fix as pip
would: a pinned package whose installed version satisfies its pin must have been removed
earlier in the same command (`pip uninstall -y`, `conda remove --force`).
"""

from __future__ import annotations

import json
import re

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion
from packaging.version import Version as PyVersion

from envlock.checks.registry import run_checks
from envlock.facts import Facts
from envlock.pasted import facts_from_texts
from tests.conftest import FIXTURES

CE = FIXTURES / "collect_env"
# the tuning reports envlock reads (a report marked unreadable, with why, gives no facts yet)
TUNING = [
    e["file"]
    for e in json.loads((CE / "corpus.json").read_text())["reports"]
    if "unreadable" not in e
]
_PIN = re.compile(r'"([A-Za-z0-9_.-]+)(==[^"]+)"')
_REMOVE = re.compile(r"(?:pip uninstall|conda remove)((?: [A-Za-z0-9_.-]+)+)")
_CONDA_NAME = {"pytorch": "torch"}  # conda's name for pip's torch
# EL-FAMILY-MISMATCH's "move torch" road (after its first "; or ") pins the member that
# already matches, on purpose: that pin keeps it. Its first road, the member for this torch,
# must change what it pins like every other line (pytorch-31876: torchvision 0.4.0+cu92
# beside torch 1.2.0 cu100 was told `pip install "torchvision==0.4.*" .../cu100`).
_FIRST_ROAD_ONLY = frozenset({"EL-FAMILY-MISMATCH"})
# Its member line also names the installed torch release ("torch==2.2.1", familyfix.kept_torch)
# on purpose: each member wheel pins one torch patch, and that pin keeps pip from moving torch.
_KEEP_TORCH = re.compile(r'^"torch==\d+(?:\.\d+)*"$')


def _installed(facts: Facts) -> dict[str, str]:
    dists = dict(facts.packages.distributions)
    if facts.torch.installed and facts.torch.version:
        dists.setdefault("torch", facts.torch.version)
    return dists


def _satisfied(version: str, spec: str) -> bool:
    try:
        return SpecifierSet(spec).contains(PyVersion(version), prereleases=True)
    except InvalidVersion:
        return False


def noops(fix: str, installed: dict[str, str]) -> list[str]:
    """The pins of each '; or' alternative that pip would leave as they are."""
    out: list[str] = []
    for way in fix.split("; or "):
        removed: set[str] = set()
        for command in way.split(" && "):
            # a fix may lead with prose ("install a torch build that ...: pip uninstall")
            remove = _REMOVE.search(command)
            if remove:
                names = remove.group(1).split()
                removed |= {_CONDA_NAME.get(w, w) for w in names if not w.startswith("-")}
                continue
            words = command.split()
            if "pip install" not in command or "--force-reinstall" in words:
                continue
            for name, spec in _PIN.findall(command):
                if _KEEP_TORCH.match(f'"{name}{spec}"') and len(_PIN.findall(command)) > 1:
                    continue  # the kept torch beside the member it keeps
                have = installed.get(name)
                if have is not None and name not in removed and _satisfied(have, spec):
                    out.append(f"{name}{spec} (installed {have})")
    return out


def _reports() -> list[str]:
    """The tuning reports whose doctor prints a pip line (collected once)."""
    return TUNING


@pytest.mark.parametrize("name", _reports())
def test_every_pip_line_changes_what_it_pins(name: str) -> None:
    facts = facts_from_texts(collect_env=(CE / name).read_text())
    installed = _installed(facts)
    for finding in run_checks(facts):
        fix = finding.fix or ""
        if finding.check_id in _FIRST_ROAD_ONLY:
            fix = fix.split("; or ")[0]
        if "pip install" in fix:
            assert not noops(fix, installed), (finding.check_id, finding.fix)


@pytest.mark.parametrize(
    ("name", "check_id"),
    [
        ("pytorch-122924.txt", "EL-TORCH-CPU-ONLY"),  # Windows, PyPI's CPU torch 2.2.2
        ("vllm-7557.txt", "EL-TORCH-CPU-ONLY"),  # torch 2.3.1+cpu beside an MX330
        ("pytorch-110153.txt", "EL-ARCH-UNSUPPORTED"),  # 2.0.1+cu117 on an H100 -> cu118
        ("espnet-5556.txt", "EL-DRIVER-TOO-OLD"),  # 2.1.0+cu121 on a CUDA 11.7 driver
    ],
)
def test_same_release_fix_uninstalls_first(name: str, check_id: str) -> None:
    """The classes seen in the review, by name: each fix keeps the release and changes
    the variant, so it must remove the installed build first."""
    facts = facts_from_texts(collect_env=(CE / name).read_text())
    (finding,) = [f for f in run_checks(facts) if f.check_id == check_id]
    fix = finding.fix or ""
    assert "pip uninstall -y torch" in fix.split("; or ")[0], fix
    assert not noops(fix, _installed(facts)), fix


@pytest.mark.parametrize(
    ("name", "check_id", "pin"),
    [
        # 1.7.0+cu110 -> 1.7.1+cpu: a pin with a local label is not met by another's
        ("pytorch-74733.txt", "EL-NO-DRIVER", '"torch==1.7.1+cpu"'),
    ],
)
def test_a_tagged_pin_changes_the_build_without_an_uninstall(
    name: str, check_id: str, pin: str
) -> None:
    """A release pytorch.org's page installs with exact tagged pins: pip compares the
    local label, so the line changes the build with no uninstall before it."""
    facts = facts_from_texts(collect_env=(CE / name).read_text())
    (finding,) = [f for f in run_checks(facts) if f.check_id == check_id]
    fix = finding.fix or ""
    assert pin in fix and "uninstall" not in fix, fix
    assert not noops(fix, _installed(facts)), fix


def test_an_untagged_pin_of_pypis_build_uninstalls_first() -> None:
    """torch 1.7's cu102 build is PyPI's own, installed untagged ("torch==1.7.1"): beside
    1.7.1+cpu pip would keep the CPU build, so it is uninstalled first."""
    from envlock.checks.hints import install_line
    from envlock.matrix import Version

    line = install_line(Version((1, 7)), "cu102", {}, installed={"torch": "1.7.1+cpu"})
    assert line == 'pip uninstall -y torch && pip install "torch==1.7.1"', line
    assert not noops(line, {"torch": "1.7.1+cpu"})


def test_noops_reads_pip_as_pip_does() -> None:
    """The model itself: a local label does not stop `==X.Y.*` matching; an uninstall or
    conda removal before the install does; another release is not satisfied."""
    cpu = {"torch": "2.2.2+cpu", "torchvision": "0.17.2"}
    line = 'pip install "torch==2.2.*" "torchvision==0.17.*" --index-url https://x/cu121'
    assert noops(line, cpu) == [
        "torch==2.2.* (installed 2.2.2+cpu)",
        "torchvision==0.17.* (installed 0.17.2)",
    ]
    assert noops(f"pip uninstall -y torch torchvision && {line}", cpu) == []
    assert noops(f"conda remove --force pytorch torchvision && {line}", cpu) == []
    assert noops(line.replace("2.2.*", "2.3.*").replace("0.17.*", "0.18.*"), cpu) == []


@pytest.mark.parametrize(
    ("name", "torch"),
    [
        ("pytorch-122924.txt", "2.2"),  # PyPI's CPU torch 2.2.2 on Windows, RTX 4080 Laptop
        ("pytorch-110153.txt", "2.0"),  # 2.0.1+cu117 on an H100: the release's cu118
    ],
)
def test_matrix_pip_line_changes_what_it_pins(name: str, torch: str) -> None:
    """`envlock matrix --collect-env FILE --torch X.Y`: its pip lines read as pip would."""
    from envlock.api import matrix_advice
    from envlock.collect import Source

    path = CE / name
    advice = matrix_advice(Source(collect_env=str(path)), torch=torch)
    installed = _installed(facts_from_texts(collect_env=path.read_text()))
    assert advice.best is not None
    lines = [b.pip for b in advice.fits if b.runs]
    assert lines and advice.best.pip in lines
    for line in lines:
        assert not noops(line, installed), line
